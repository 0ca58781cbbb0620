"""Shared by the autoreply tests: a customer who just wrote, and the event inbound processing
hands to ``after_inbound`` for their message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from ulid import ULID

from contacts import actions
from contacts.models import Contact
from messaging.models import Message
from messaging.whatsapp_table import WaNotificationSent
from wecare.dynamo import now


def business_number() -> str:
    return settings.WHATSAPP_PHONE_NUMBER_IDS[0]


def customer(user: Any, phone: str, *, opted_in: bool = True, name: str = "Asha Rao") -> Contact:
    """A contact whose 24-hour window is open: they wrote a minute ago."""
    contact = actions.create_contact(
        {"phone": phone, "name": name, "optInWhatsApp": opted_in}, user=user, source="test"
    )
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=1))])
    return contact


def conversation_pk(contact: Contact, number: str | None = None) -> str:
    suffix = (number or business_number()).rsplit("-", 1)[-1]
    return f"CONV#{suffix}#{contact.phone}"


def event(
    contact: Contact,
    *,
    text: str | None = "Hello",
    at: datetime | None = None,
    first: bool = True,
    new_contact: bool = False,
    number: str | None = None,
) -> dict[str, Any]:
    return {
        "contactId": contact.contactId,
        "customerPhone": contact.phone,
        "phoneNumberId": number or business_number(),
        "conversationPk": conversation_pk(contact, number),
        "waMessageId": f"wamid.{ULID()}",
        "messageType": "text",
        "text": text,
        "isNewContact": new_contact,
        "isFirstMessage": first,
        "receivedAt": (at or now()).isoformat(),
    }


def outbound_messages(contact: Contact) -> list[Message]:
    return [m for m in Message.by_contact.query(contact.contactId) if m.direction == "outbound"]


def forget_templates(*names: str) -> None:
    """Remove TEMPLATE_EUM items a test synced from its own template list: moto keeps them for
    the session, and other tests count the synced templates."""
    from messaging.whatsapp_table import WaTemplate

    for item in WaTemplate.item_type_index.query("TEMPLATE_EUM"):
        if isinstance(item, WaTemplate) and item.templateName in names:
            item.delete()


def marker(kind: str, contact: Contact) -> WaNotificationSent:
    return WaNotificationSent.get(f"NOTIFICATION#{kind}#{conversation_pk(contact)}", consistent_read=True)


WELCOME = {
    "enabled": True,
    "welcomeText": "Welcome to WECARE.DIGITAL. We will reply shortly.",
    "onlyOnFirstContact": True,
    "cooldownHours": 24,
    "outsideWindowTemplateName": "",
}

MENU = {
    "enabled": True,
    "bodyText": "How can we help?",
    "buttonText": "See options",
    "sections": [
        {
            "title": "Services",
            "rows": [
                {"id": "book", "title": "Book a visit", "description": "Pick a time"},
                {"id": "talk", "title": "Talk to us"},
            ],
        }
    ],
    "triggerKeywords": ["menu", "hi"],
    "cooldownHours": 1,
}
