"""Consent history: every change of a contact's opt-in on a channel is a ``ConsentEvent`` written in
the same transaction as the opt-in itself, so the two never disagree. ``contacts.actions`` adds the
events of a create or an edit (pages, API, CSV import, the inbox) to its own transaction;
``change`` is the one entry for a single channel's change (a customer's keyword, a button, an
unsubscribe link, a bounce). docs/design/contacts.md, "Consent history", says why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from contacts.models import CHANNELS, CONSENT_FIELDS, OPT_IN_FIELDS, ConsentEvent, Contact
from contacts.queries import get_contact
from wecare import audit
from wecare.dynamo import Transaction, now, transaction
from wecare.errors import Conflict, NotFound

SOURCES = (
    "operator",
    "api",
    "import",
    "keyword",
    "template_button",
    "unsubscribe_link",
    "bounce",
    "complaint",
    "sms_optout_list",
)
CUSTOMER = "customer"
PROVIDER = "provider"
# How the paths that existed before the history name themselves on the contact's consent record
# ("page", "api", "csv:<import id>"...), and the history source each one is.
_SOURCE_OF_ORIGIN = {"page": "operator", "inbox": "operator", "admin": "operator", "demo": "operator", "api": "api"}
# A change lost a race this many times in a row is reported, not retried for ever.
MAX_ATTEMPTS = 3


def source_of(origin: str) -> tuple[str, dict[str, Any]]:
    """The history source and evidence of a contact change made from ``origin``: "csv:<id>" is an
    import naming its file; a source of the history's own list is itself; anything else (a
    person's page, the admin, a test) is an operator's."""
    kind, _, ref = origin.partition(":")
    if kind == "csv":
        return "import", {"importId": ref}
    return _SOURCE_OF_ORIGIN.get(kind, kind if kind in SOURCES else "operator"), {}


def consent_record(
    actor: str,
    at: datetime,
    detail: str,
    *,
    how: str | None = None,
    was_opted_in: bool | None = None,
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The contact's own "last changed" record of a channel (``Contact.consent``): who, when,
    from where, and (so the gate can say why it refuses without reading the history) the
    history source, the opt-in before the change and the evidence."""
    record: dict[str, Any] = {"changedBy": actor, "changedAt": at, "source": detail}
    if how is not None:
        record["how"] = how
    if was_opted_in is not None:
        record["wasOptedIn"] = was_opted_in
    if evidence:
        record["evidence"] = {k: v for k, v in evidence.items() if v is not None}
    return record


def add_event(
    tx: Transaction,
    contact_id: str,
    channel: str,
    opted_in: bool,
    *,
    source: str,
    actor: str,
    detail: str,
    evidence: dict[str, Any],
    at: datetime,
) -> ConsentEvent:
    """Put one history event into ``tx``: it commits exactly when the opt-in change does."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown consent source {source!r}")
    event = ConsentEvent(
        contactId=contact_id,
        eventKey=f"{channel}#{ULID()}",
        channel=channel,
        optedIn=opted_in,
        at=at,
        actor=actor,
        source=source,
        detail=detail,
        evidence={k: v for k, v in evidence.items() if v is not None},
    )
    tx.save(event, condition=ConsentEvent.eventKey.does_not_exist())
    return event


def _still(opt_in: Any, value: bool) -> Any:
    """The condition that the stored opt-in is still ``value``; an absent one reads as false
    (items written in bulk without their defaults)."""
    return opt_in == True if value else (opt_in.does_not_exist() | (opt_in == False))  # noqa: E712


def _actor_id(actor: Any) -> str:
    """A person (a user object) is named by their username; "customer" and "provider" as given."""
    return actor if isinstance(actor, str) else audit.actor_id(actor)


def superseded(contact: Contact, channel: str, since: datetime, *, evidence_key: str, evidence_value: str) -> bool:
    """Whether the contact's opt-in on ``channel`` was last changed after ``since`` by something
    else than the signal whose evidence names ``evidence_key: evidence_value``. A customer's
    keyword applied again after a crash (a redelivery, a retry) must not undo a change that came
    after it: their next word, or a person's; its own change, made before the crash, is not
    "something else", so the retry still finishes what it started."""
    record = contact.consent(channel)
    changed_at = getattr(record, "changedAt", None)
    if changed_at is None:
        return False
    if (getattr(record, "evidence", None) or {}).get(evidence_key) == evidence_value:
        return False
    return changed_at > (since if since.tzinfo else since.replace(tzinfo=UTC))


def change(
    contact: Contact,
    channel: str,
    opted_in: bool,
    *,
    source: str,
    actor: Any,
    evidence: dict[str, Any],
    detail: str | None = None,
) -> Contact:
    """Set one channel's opt-in of a live contact and write its history event, in one transaction.

    ``actor``: a user, or ``CUSTOMER`` / ``PROVIDER``. ``evidence``: what proves it (the message
    id and keyword, the link id, the feedback id). ``detail`` is what the contact's consent record
    names as its source (``source`` when not given). Setting the value it already has writes
    nothing: the history holds changes, and the evidence of a repeat adds nothing to it.

    The update holds only if the opt-in is still what was read, so each event's "from" is true
    even when two changes race; the loser re-reads and tries again. Raises NotFound when the
    contact is deleted, Conflict when it keeps losing the race."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if source not in SOURCES:
        raise ValueError(f"unknown consent source {source!r}")
    field = OPT_IN_FIELDS[channel]
    who = _actor_id(actor)
    for _ in range(MAX_ATTEMPTS):
        if contact.is_deleted:
            raise NotFound(f"contact {contact.contactId} is deleted")
        if contact.opted_in(channel) == opted_in:
            return contact
        at = now()
        opt_in = getattr(Contact, field)
        held = _still(opt_in, contact.opted_in(channel))
        try:
            with transaction() as tx:
                tx.update(
                    contact,
                    actions=[
                        opt_in.set(opted_in),
                        getattr(Contact, CONSENT_FIELDS[channel]).set(
                            consent_record(
                                who,
                                at,
                                detail or source,
                                how=source,
                                was_opted_in=contact.opted_in(channel),
                                evidence=evidence,
                            )
                        ),
                        Contact.updatedAt.set(at),
                    ],
                    condition=Contact.contactId.exists() & Contact.deletedAt.does_not_exist() & held,
                    label="contact",
                )
                add_event(
                    tx,
                    contact.contactId,
                    channel,
                    opted_in,
                    source=source,
                    actor=who,
                    detail=detail or source,
                    evidence=evidence,
                    at=at,
                )
        except TransactWriteError:
            contact = get_contact(contact.contactId, include_deleted=True)
            continue
        audit.record(
            None if isinstance(actor, str) else actor,
            "contact.consent",
            "contact",
            contact.contactId,
            channel=channel,
            optedIn=opted_in,
            source=source,
            actor=who,
            evidence={k: v for k, v in evidence.items() if v is not None},
        )
        return get_contact(contact.contactId)
    raise Conflict(f"the {channel} consent of contact {contact.contactId} kept changing; try again", field=field)
