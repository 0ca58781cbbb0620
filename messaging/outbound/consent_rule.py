"""The gate's consent rule: is the contact opted in on this channel, and if not, why not (never
given, withdrawn by whom, when and how, or suppressed by the provider), read from the contact's
own consent record so the gate costs no read of the history. Also the one exception: the
WhatsApp confirmation of a customer's own opt-out. docs/design/send-path.md ("One path") says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from contacts import consent
from contacts.models import Consent, Contact
from messaging.channels import RULES, Channel

# How long after a customer's own STOP (or "Stop promotions") the one confirmation may still go.
# The keywords handler sends it within seconds of the inbound message; the margin covers a
# queue backlog or a worker restart, and anything later is no longer an answer to what the
# customer just did, so it is refused like any other message after an opt-out.
CONFIRMATION_WINDOW = timedelta(minutes=10)
# The change may be stamped by another host's clock a moment "after" the gate's.
CLOCK_SKEW = timedelta(seconds=30)
# The changes a confirmation answers: the customer's own, on WhatsApp.
CONFIRMED_SOURCES = frozenset({"keyword", "template_button"})
# The sources by which a provider (not the customer or a person) stopped a channel.
PROVIDER_SOURCES = frozenset({"bounce", "complaint", "sms_optout_list"})


class Purpose(StrEnum):
    """Why a message is sent. Only ``send.send_consent_confirmation`` sends anything but MESSAGE;
    the API and the pages cannot choose it."""

    MESSAGE = "MESSAGE"
    CONSENT_CONFIRMATION = "CONSENT_CONFIRMATION"

    @classmethod
    def of(cls, value: str | None) -> Purpose:
        """A stored purpose; anything unknown is an ordinary message (the strictest rules)."""
        return cls.__members__.get(value or "", cls.MESSAGE)


class ConsentState(StrEnum):
    OPTED_IN = "OPTED_IN"
    NEVER_GIVEN = "CONSENT_NEVER_GIVEN"
    WITHDRAWN = "CONSENT_WITHDRAWN"
    SUPPRESSED = "SUPPRESSED"


@dataclass(frozen=True)
class ConsentFinding:
    state: ConsentState
    words: dict[str, str] = field(default_factory=dict)  # what the refusal's sentence names


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if isinstance(at, datetime) else "at a time not recorded"


def _evidence(record: Consent) -> dict[str, Any]:
    value = getattr(record, "evidence", None)
    return value if isinstance(value, dict) else {}


def _how(record: Consent) -> str:
    """The history source of the record; an older record has only its path's name."""
    how = getattr(record, "how", None)
    if isinstance(how, str) and how in consent.SOURCES:
        return how
    return consent.source_of(str(getattr(record, "source", "") or ""))[0]


def _withdrew(contact: Contact, record: Consent) -> bool:
    """Did the change the record names turn a given consent off? A record says so itself; an
    older one without ``wasOptedIn`` was a withdrawal unless the contact was created with it
    (create writes its records at ``createdAt``; a later record is an edit, and edits and
    ``consent.change`` write a record only when the value changes)."""
    was = getattr(record, "wasOptedIn", None)
    if isinstance(was, bool):
        return was
    return getattr(record, "changedAt", None) != getattr(contact, "createdAt", None)


def _message_ref(evidence: dict[str, Any]) -> str:
    return f" (message {evidence['messageId']})" if evidence.get("messageId") else ""


# Where a person's change was made, by the name the path gives itself on the record.
_OPERATOR_PLACES = {"page": "on the contact's page", "inbox": "from the inbox", "admin": "in the admin"}


def _how_words(how: str, evidence: dict[str, Any], detail: str) -> str:
    """How the change was made, as the end of a sentence."""
    ref = _message_ref(evidence)
    if how == "keyword":
        keyword = evidence.get("keyword")
        return (f'by writing "{keyword}"' if keyword else "by an opt-out keyword") + ref
    if how == "template_button":
        button = evidence.get("button") or evidence.get("buttonText") or evidence.get("payload")
        tapped = f'by tapping the template button "{button}"' if button else "by tapping a template's opt-out button"
        return tapped + ref
    if how == "unsubscribe_link":
        link = evidence.get("linkId") or evidence.get("link")
        return "through the unsubscribe link" + (f" ({link})" if link else "") + ref
    if how == "import":
        return "with a contact import" + (f" ({evidence['importId']})" if evidence.get("importId") else "")
    if how == "api":
        return "through the API"
    return _OPERATOR_PLACES.get(detail, f"({detail})" if detail else "by hand")


def _who(how: str, actor: str) -> str:
    if actor == consent.CUSTOMER:
        return "the customer"
    if actor == consent.PROVIDER:
        return "the provider"
    if how == "api":
        return f"the API (token of {actor})"
    if how == "import":
        return f"a contact import by {actor}"
    return f"staff member {actor}"


def _suppressed_words(how: str, evidence: dict[str, Any]) -> str:
    if how == "bounce":
        feedback = evidence.get("feedbackId")
        return "an SES hard bounce" + (f" (feedback {feedback})" if feedback else "")
    if how == "complaint":
        feedback = evidence.get("feedbackId")
        return "an SES complaint" + (f" (feedback {feedback})" if feedback else "")
    return "the number is on the SMS opt-out list"


def finding(contact: Contact, channel: Channel) -> ConsentFinding:
    """The contact's consent on ``channel``. Only a stored ``True`` is opted in: a missing or
    malformed value is not, and is told apart by the record of its last change."""
    suppression = contact.email_suppression() if channel is Channel.EMAIL else None
    if suppression is not None:
        # Before the opt-in: SES's word on the address outlasts any later consent to it.
        at = suppression.get("at")
        when = _when(datetime.fromisoformat(at) if isinstance(at, str) else None)
        words = _suppressed_words(str(suppression.get("kind")), suppression)
        return ConsentFinding(ConsentState.SUPPRESSED, {"what": words, "when": when})
    if RULES[channel].opted_in(contact):
        return ConsentFinding(ConsentState.OPTED_IN)
    record = contact.consent(channel.value)
    if record is None:
        return ConsentFinding(ConsentState.NEVER_GIVEN)
    how, evidence = _how(record), _evidence(record)
    when = _when(getattr(record, "changedAt", None))
    if how in PROVIDER_SOURCES:
        return ConsentFinding(ConsentState.SUPPRESSED, {"what": _suppressed_words(how, evidence), "when": when})
    if not _withdrew(contact, record):
        return ConsentFinding(ConsentState.NEVER_GIVEN)
    who = _who(how, str(getattr(record, "changedBy", "") or "someone not recorded"))
    detail = str(getattr(record, "source", "") or "")
    return ConsentFinding(ConsentState.WITHDRAWN, {"who": who, "when": when, "how": _how_words(how, evidence, detail)})


def confirmable_change(contact: Contact, channel: Channel, at: datetime) -> dict[str, Any] | None:
    """The customer's own consent change a WhatsApp confirmation may answer: by keyword or
    template button, within ``CONFIRMATION_WINDOW`` before ``at``. None when there is none."""
    if channel is not Channel.WHATSAPP:
        return None
    record = contact.consent(channel.value)
    if record is None or getattr(record, "changedBy", None) != consent.CUSTOMER:
        return None
    how, changed_at = _how(record), getattr(record, "changedAt", None)
    if how not in CONFIRMED_SOURCES or not isinstance(changed_at, datetime):
        return None
    if not (-CLOCK_SKEW <= at - changed_at <= CONFIRMATION_WINDOW):
        return None
    return {
        "changedBy": consent.CUSTOMER,
        "changedAt": changed_at.isoformat(),
        "how": how,
        "evidence": _evidence(record),
    }
