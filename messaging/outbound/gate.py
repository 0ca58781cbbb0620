"""The safety gate: may this message go to this contact, on this channel, from this sender, now?

Fail-closed. Every rule must positively allow the send; a missing value is a refusal. The gate
returns a reason code the caller shows as it is, and there is no fallback channel: a refused
WhatsApp message is not retried as SMS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contacts.models import Contact
from messaging.channels import RULES, Channel, allowed_senders

log = logging.getLogger("messaging.gate")


class Reason(StrEnum):
    CONTACT_DELETED = "CONTACT_DELETED"
    NO_ADDRESS = "NO_ADDRESS"
    OPT_IN_MISSING = "OPT_IN_MISSING"
    PHONE_NUMBER_REQUIRED = "PHONE_NUMBER_REQUIRED"
    SENDER_NOT_ALLOWLISTED = "SENDER_NOT_ALLOWLISTED"
    TEMPLATE_REQUIRED = "TEMPLATE_REQUIRED"
    TIER_LIMIT = "TIER_LIMIT"


SENTENCES = {
    Reason.CONTACT_DELETED: "The contact is deleted (or does not exist); nothing is sent to deleted contacts.",
    Reason.NO_ADDRESS: "The contact has no {address} for {channel}.",
    Reason.OPT_IN_MISSING: "The contact has not opted in to {channel}. Record their consent first.",
    Reason.PHONE_NUMBER_REQUIRED: (
        "WhatsApp delivers authentication templates only to a phone number, and this contact is known only by their"
        " WhatsApp user id (Meta error 131062): send another template, or record their number first."
    ),
    Reason.SENDER_NOT_ALLOWLISTED: "The sender '{sender}' is not on the {channel} allowlist.",
    Reason.TEMPLATE_REQUIRED: "No WhatsApp window is open (no message from the contact "
    "in the last 24 hours): pick an approved template.",
    Reason.TIER_LIMIT: "The WhatsApp messaging limit for the last 24 hours "
    "is used up; try again later or raise the tier.",
}


@dataclass(frozen=True)
class Verdict:
    reason: Reason | None
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.reason is None


ALLOWED = Verdict(None)


def check(
    contact: Contact | None,
    channel: Channel,
    sender: str | None,
    *,
    is_template: bool,
    at: datetime,
    tier_allows: Callable[[str], bool],
    phone_only: bool = False,
) -> Verdict:
    """Apply every rule, in the order a person would fix them.

    ``tier_allows(phone)`` is asked only for a business-initiated WhatsApp message (outside the
    contact's window); it returns False when the messaging limit has no room for this person.
    ``phone_only``: the message is one WhatsApp delivers only to a phone number (an authentication
    template), never to a business-scoped user id (docs/design/inbound.md).
    """
    rules = RULES[channel]
    if contact is None or contact.is_deleted:
        return _refuse(Reason.CONTACT_DELETED, contact, channel, sender)
    address = rules.address(contact)
    if not address:
        return _refuse(Reason.NO_ADDRESS, contact, channel, sender, address=rules.address_field)
    if channel == Channel.WHATSAPP and phone_only and not contact.phone:
        return _refuse(Reason.PHONE_NUMBER_REQUIRED, contact, channel, sender)
    if not rules.opted_in(contact):
        return _refuse(Reason.OPT_IN_MISSING, contact, channel, sender)
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
    return ALLOWED


def _refuse(reason: Reason, contact: Contact | None, channel: Channel, sender: str | None, **words: str) -> Verdict:
    message = SENTENCES[reason].format(channel=channel.value, sender=sender or "", **words)
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
