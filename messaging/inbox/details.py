"""The contact pane beside a thread: who the conversation is with, their consent on every channel,
WhatsApp's 24-hour window, their recent messages on any channel, and the business numbers the
list can filter by. docs/design/inbox.md, "The contact pane".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contacts.models import Contact
from messaging import business_numbers
from messaging.inbox import queries as wa_queries
from messaging.inbox import thread_queries
from messaging.models import Message
from messaging.queries import list_messages
from wecare.dynamo import now

RECENT = 5
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "Email"}


@dataclass
class ChannelConsent:
    channel: str
    label: str
    address: str | None  # the number or address the contact has for it
    opted_in: bool


def consents(contact: Contact | None) -> list[ChannelConsent]:
    if contact is None:
        return []
    addresses = {"whatsapp": contact.phone or contact.whatsappUserId, "sms": contact.phone, "email": contact.email}
    return [ChannelConsent(c, label, addresses[c], contact.opted_in(c)) for c, label in CHANNEL_LABELS.items()]


@dataclass
class Recent:
    """One of the contact's recent messages, on any channel."""

    at: Any
    channel: str
    outbound: bool
    text: str


def _recent(message: Message) -> Recent:
    content = message.content or {}
    template = content.get("template") if isinstance(content.get("template"), dict) else {}
    text = content.get("subject") or content.get("text") or (template or {}).get("name") or content.get("caption") or ""
    return Recent(message.timestamp, message.channel, message.direction == "outbound", str(text))


def business_choices() -> list[tuple[str, str]]:
    """Every configured business number and address, with the name people know it by."""
    found = [
        *wa_queries.numbers(),
        *thread_queries.configured_inboxes("sms"),
        *thread_queries.configured_inboxes("email"),
    ]
    return [(b, business_numbers.label(b)) for b in dict.fromkeys(found)]


def context(channel: str, item: Any, contact: Contact | None) -> dict[str, Any]:
    business = (item.originationPhoneNumberId if channel == "whatsapp" else item.business) or ""
    recent: list[Any] = []
    if contact is not None:
        found, _ = list_messages(
            contact_id=contact.contactId, channel=None, status=None, direction=None, cursor=None, limit=RECENT
        )
        recent = [_recent(m) for m in found]
    return {
        "consents": consents(contact),
        "opted_in": bool(contact and contact.opted_in(channel)),
        "window": contact.whatsapp_window_expires_at(now()) if contact else None,
        "business": business,
        "business_label": business_numbers.label(business) if business else "",
        "recent": recent,
    }
