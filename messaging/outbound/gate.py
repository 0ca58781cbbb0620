"""The safety gate: may this message go to this contact, on this channel, from this sender, now?

Fail-closed. Every rule must positively allow the send; a missing value is a refusal. The gate
returns a reason code (for the API and the logs) and a sentence in plain words (for people),
and there is no fallback channel: a refused WhatsApp message is not retried as SMS. A consent
refusal says why (never given, withdrawn by whom, when and how, suppressed by the provider);
the one message allowed after an opt-out is the WhatsApp confirmation of the customer's own
STOP (``Purpose.CONSENT_CONFIRMATION``, messaging/outbound/consent_rule.py).
docs/design/send-path.md says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from contacts.models import Contact
from messaging.channels import RULES, Channel, allowed_senders
from messaging.outbound.consent_rule import ConsentState, Purpose, confirmable_change, finding

log = logging.getLogger("messaging.gate")


class Reason(StrEnum):
    CONTACT_DELETED = "CONTACT_DELETED"
    NO_ADDRESS = "NO_ADDRESS"
    CONSENT_NEVER_GIVEN = "CONSENT_NEVER_GIVEN"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"
    SUPPRESSED = "SUPPRESSED"
    PHONE_NUMBER_REQUIRED = "PHONE_NUMBER_REQUIRED"
    SENDER_NOT_ALLOWLISTED = "SENDER_NOT_ALLOWLISTED"
    TEMPLATE_REQUIRED = "TEMPLATE_REQUIRED"
    TIER_LIMIT = "TIER_LIMIT"


# The sentences a person reads: {Name}/{name} is the contact's name (or "This contact"), {channel}
# the channel's name as people write it (WhatsApp, SMS, Email). The code beside each stays the
# API's machine-readable answer.
SENTENCES = {
    Reason.CONTACT_DELETED: "This contact is deleted (or does not exist); nothing is sent to deleted contacts.",
    Reason.NO_ADDRESS: "{Name} has no {address} for {channel}. Add one on their page first.",
    Reason.CONSENT_NEVER_GIVEN: "{Name} has not agreed to {channel} messages yet. Record their consent first.",
    Reason.CONSENT_WITHDRAWN: "{Name} no longer takes {channel} messages: {who} turned them off on {when} {how}. "
    "Nothing more goes to them on {channel} until they agree again.",
    Reason.SUPPRESSED: "The provider stopped {channel} to {name}: {what}, on {when}. "
    "Nothing more goes to this address.",
    Reason.PHONE_NUMBER_REQUIRED: (
        "WhatsApp delivers authentication templates only to a phone number, and {name} is known only by their"
        " WhatsApp user id (Meta error 131062). Send another template, or record their number first."
    ),
    Reason.SENDER_NOT_ALLOWLISTED: "This platform may not send {channel} from '{sender}': it is not on the allowlist.",
    Reason.TEMPLATE_REQUIRED: "{Name} has not written on WhatsApp in the last 24 hours, so WhatsApp takes only an "
    "approved template. Pick one.",
    Reason.TIER_LIMIT: "WhatsApp's limit on new conversations for the last 24 hours is used up. "
    "Try again later, or ask for a higher tier.",
}

# How people write each channel's name.
CHANNEL_NAMES: dict[str, str] = {Channel.WHATSAPP: "WhatsApp", Channel.SMS: "SMS", Channel.EMAIL: "Email"}
# What a contact's address field is called in a sentence.
ADDRESS_NAMES = {"phone": "phone number", "email": "email address"}


def channel_name(channel: Channel | str) -> str:
    return CHANNEL_NAMES.get(channel, str(channel))  # a Channel is its str value


class Allowance(StrEnum):
    """A send allowed by an exception to a rule, logged and audited under its own code."""

    CONSENT_CONFIRMATION = "CONSENT_CONFIRMATION"


# A consent finding and the refusal it is.
CONSENT_REASONS = {
    ConsentState.NEVER_GIVEN: Reason.CONSENT_NEVER_GIVEN,
    ConsentState.WITHDRAWN: Reason.CONSENT_WITHDRAWN,
    ConsentState.SUPPRESSED: Reason.SUPPRESSED,
}


# What a reason means for many contacts at once (a bulk preview's refusals), where the sentence
# of one refusal would need that contact's own who, when and how.
SUMMARIES = {
    **SENTENCES,
    Reason.CONSENT_WITHDRAWN: "The contact turned {channel} messages off, or someone did for them (the customer, a "
    "person, the API or an import; each contact's page says who, when and how): nothing goes to them until they agree"
    " again.",
    Reason.SUPPRESSED: "The provider stopped {channel} to the contact (an SES hard bounce or complaint, or the SMS "
    "opt-out list): nothing more goes to that address.",
}


def summary(reason: Reason, **words: str) -> str:
    """The sentence for a reason given to many contacts: it needs only channel, sender, address."""
    words = {**words, "channel": channel_name(words.get("channel", "")), "Name": "The contact", "name": "the contact"}
    words["address"] = ADDRESS_NAMES.get(words.get("address", ""), words.get("address", ""))
    return SUMMARIES[reason].format(**words)


@dataclass(frozen=True)
class Verdict:
    reason: Reason | None
    message: str = ""
    # Set when the send is allowed only by an exception: which one, and what it rests on (the
    # customer's consent change a confirmation answers).
    allowance: Allowance | None = None
    grounds: dict[str, Any] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.reason is None


ALLOWED = Verdict(None)
ALLOWANCE_SENTENCE = (
    "Allowed after an opt-out: the confirmation of the customer's own {channel} consent change ({how}, {changedAt})."
)


def check(
    contact: Contact | None,
    channel: Channel,
    sender: str | None,
    *,
    is_template: bool,
    at: datetime,
    tier_allows: Callable[[str], bool],
    phone_only: bool = False,
    purpose: Purpose = Purpose.MESSAGE,
) -> Verdict:
    """Apply every rule, in the order a person would fix them.

    ``tier_allows(phone)`` is asked only for a business-initiated WhatsApp message (outside the
    contact's window); it returns False when the messaging limit has no room for this person.
    ``phone_only``: the message is one WhatsApp delivers only to a phone number (an authentication
    template), never to a business-scoped user id (docs/design/inbound.md).
    ``purpose``: ``CONSENT_CONFIRMATION`` lets one WhatsApp message reach a contact whose opt-in
    is off, only while the customer's own opt-out (keyword or template button) is recent
    (``consent_rule.confirmable_change``) and their 24-hour window is open; every other rule
    still applies.
    """
    rules = RULES[channel]
    if contact is None or contact.is_deleted:
        return _refuse(Reason.CONTACT_DELETED, contact, channel, sender)
    address = rules.address(contact)
    if not address:
        return _refuse(Reason.NO_ADDRESS, contact, channel, sender, address=rules.address_field)
    if channel == Channel.WHATSAPP and phone_only and not contact.phone:
        return _refuse(Reason.PHONE_NUMBER_REQUIRED, contact, channel, sender)
    allowance: Allowance | None = None
    grounds: dict[str, Any] = {}
    consent = finding(contact, channel)
    if consent.state is not ConsentState.OPTED_IN:
        change = confirmable_change(contact, channel, at) if purpose is Purpose.CONSENT_CONFIRMATION else None
        # Only as an answer inside the window the customer's own message opened: never as a
        # business-initiated template that would spend the tier on someone who said stop.
        if change is None or contact.whatsapp_window_expires_at(at) is None:
            return _refuse(CONSENT_REASONS[consent.state], contact, channel, sender, **consent.words)
        allowance, grounds = Allowance.CONSENT_CONFIRMATION, change
    if not sender or sender not in allowed_senders(channel):
        return _refuse(Reason.SENDER_NOT_ALLOWLISTED, contact, channel, sender)
    if channel == Channel.WHATSAPP:
        in_window = contact.whatsapp_window_expires_at(at) is not None
        if not in_window and not is_template:
            log.warning(
                "free-form WhatsApp outside the 24-hour window",
                extra={"contact_id": contact.contactId, "channel": channel.value},
            )
            return _refuse(Reason.TEMPLATE_REQUIRED, contact, channel, sender)
        if not in_window and not tier_allows(address):
            return _refuse(Reason.TIER_LIMIT, contact, channel, sender)
    if allowance is not None:
        log.info(
            "send allowed by an exception",
            extra={
                "contact_id": contact.contactId,
                "channel": channel.value,
                "allowance": allowance.value,
                "consent_change": grounds,
            },
        )
        return Verdict(None, ALLOWANCE_SENTENCE.format(channel=channel_name(channel), **grounds), allowance, grounds)
    return ALLOWED


def _refuse(reason: Reason, contact: Contact | None, channel: Channel, sender: str | None, **words: str) -> Verdict:
    name = (getattr(contact, "name", None) or "").strip()
    words = {
        "Name": name or "This contact",
        "name": name or "this contact",
        "channel": channel_name(channel),
        "sender": sender or "",
        **words,
    }
    words["address"] = ADDRESS_NAMES.get(words.get("address", ""), words.get("address", ""))
    message = SENTENCES[reason].format(**words)
    log.warning(
        "send refused",
        extra={
            "contact_id": getattr(contact, "contactId", None),
            "channel": channel.value,
            "reason": reason.value,
            "sender": sender,
        },
    )
    return Verdict(reason, message)
