"""The three channels, their allowlisted senders and the contact field each one sends to.

A registry, not a switch: everything channel-specific that the gate and the send path need is
looked up here by channel name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from contacts.models import Contact


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"


# Each channel's name as a person writes it, for forms and pages (the values above are codes).
CHANNEL_NAMES: dict[str, str] = {Channel.WHATSAPP: "WhatsApp", Channel.SMS: "SMS", Channel.EMAIL: "Email"}


@dataclass(frozen=True)
class ChannelRules:
    address_field: str  # the contact attribute the message goes to
    opt_in_field: str
    # Where to send when the contact has no ``address_field``: WhatsApp reaches a customer who
    # hides their number by the business-scoped user id Meta gave (docs/design/inbound.md).
    fallback_field: str | None = None

    def address(self, contact: Contact) -> str | None:
        value = getattr(contact, self.address_field, None)
        if not value and self.fallback_field:
            value = getattr(contact, self.fallback_field, None)
        return value or None

    def opted_in(self, contact: Contact) -> bool:
        # `is True`: a missing or malformed value is a refusal, never a pass.
        return getattr(contact, self.opt_in_field, None) is True


RULES: dict[Channel, ChannelRules] = {
    Channel.WHATSAPP: ChannelRules("phone", "optInWhatsApp", fallback_field="whatsappUserId"),
    Channel.SMS: ChannelRules("phone", "optInSms"),
    Channel.EMAIL: ChannelRules("email", "optInEmail"),
}


def unknown_channel(value: str) -> str | None:
    """Why ``value`` (from a query string or a form) names no channel; None when it names one.
    The pages answer it as a 400 rather than let ``Channel(value)`` fail deeper down (a 500)."""
    if value in Channel._value2member_map_:
        return None
    *others, last = [c.value for c in Channel]
    return f"Unknown channel {value[:40]!r}: choose {', '.join(others)} or {last}."


def allowed_senders(channel: Channel) -> list[str]:
    """The allowlist: WhatsApp phone-number ids, the SMS pool (first: the default) and its
    two-way numbers (a reply goes from the number the customer wrote to), the SES sender address."""
    return {
        Channel.WHATSAPP: list(settings.WHATSAPP_PHONE_NUMBER_IDS),
        Channel.SMS: [settings.SMS_POOL_ID, *settings.SMS_NUMBERS],
        Channel.EMAIL: [settings.SES_SENDER_EMAIL],
    }[channel]


def default_sender(channel: Channel) -> str | None:
    senders = allowed_senders(channel)
    return senders[0] if senders else None
