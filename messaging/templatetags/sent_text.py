"""What a message said as the customer read it, for the pages that list messages: a template's
text with its values instead of its name (docs/design/composer.md, "What was sent")."""

from __future__ import annotations

from typing import Any

from django import template

from messaging.models import Message
from messaging.outbound import template_catalog

register = template.Library()


@register.filter
def template_text(content: Any) -> str:
    """A Messages item's ``content``: its template rendered with its values, as plain text."""
    return template_catalog.sent_text((content or {}).get("template")) if isinstance(content, dict) else ""


@register.filter
def earlier_template_text(message: Any) -> str:
    """An outbound WhatsApp template recorded before its text was kept (``textBody`` empty, the
    name in ``preview``): rendered from its Messages item while that is kept (30 days), else ""."""
    message_id = getattr(message, "messageId", None)
    if not message_id or getattr(message, "textBody", None):
        return ""
    try:
        sent = Message.get(message_id)
    except Message.DoesNotExist:
        return ""
    return template_catalog.sent_text((sent.content or {}).get("template")) if sent.templateName else ""
