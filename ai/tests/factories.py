"""Suggestions as the pipeline writes them (ai/models.py AIInteraction), made directly, so the
inbox panel, the actions and the Agent page are tested without drafting anything."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from ulid import ULID

from ai.models import AIInteraction, Status
from contacts import actions as contact_actions
from contacts.models import Contact
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from wecare.dynamo import now

DRAFT = "Hello! Our store opens at 9 am and closes at 6 pm, Monday to Saturday."
SOURCES = [
    {"title": "Opening hours", "uri": "https://example.com/kb/hours.md", "score": 0.82, "excerpt": "9 am to 6 pm"},
    {"title": "Holidays", "uri": "https://example.com/kb/holidays.md", "score": 0.41, "excerpt": "closed Sundays"},
]


def whatsapp_conversation(operator: Any, phone: str, *, opted_in: bool = True, window_open: bool = True):
    """A contact who wrote to the first business number, and the conversation's inbox key."""
    contact = contact_actions.create_contact(
        {"name": "Asha Rao", "phone": phone, "optInWhatsApp": opted_in}, user=operator, source="test"
    )
    if window_open:
        contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=5))])
    conv = inbox_data.conversation(phone)
    return contact, f"whatsapp~{inbox_queries.slug(conv.pk)}"


def interaction(
    conversation: str,
    *,
    contact_id: str | None = None,
    status: Status | str = Status.PENDING,
    at: datetime | None = None,
    **fields: Any,
) -> AIInteraction:
    at = at or now()
    message_id = fields.pop("messageId", f"wamid.{ULID()}")
    values: dict[str, Any] = {
        "interactionId": f"ai-{message_id}",
        "messageId": message_id,
        "conversation": conversation,
        "contactId": contact_id,
        "businessNumber": settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        "createdAt": at.isoformat(),
        "day": at.strftime("%Y-%m-%d"),
        "status": str(status),
        "query": "When are you open?",
        "sources": SOURCES,
        "response": DRAFT,
        "intent": "opening_hours",
        "generator": "agent",
        "modelId": "amazon.nova-pro-v1:0",
        "agentId": "HQNT0JXN8G",
        "latencyMs": 2400,
        "usage": {"inputTokens": 1200, "outputTokens": 80, "calls": {"Retrieve": 1, "InvokeAgent": 1, "Converse": 1}},
        **fields,
    }
    item = AIInteraction(**values)
    item.save()
    return item
