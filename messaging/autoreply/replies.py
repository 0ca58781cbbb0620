"""What happens after a new inbound WhatsApp message is recorded: the welcome, the menu, and the
staff email. Inbound processing calls ``after_inbound.delay(event)`` once per *new* message.

Each of the three is independent and idempotent: it claims its cooldown marker
(messaging/autoreply/cooldown.py) before doing anything a customer or a person would see, so a retried,
redelivered or replayed task never sends twice.

Welcome and menu go through the one send path (``send_message``) with no person as the actor
(recorded as ``system``) and ``source`` "welcome" / "menu", so the safety gate applies in full:
a customer who wrote to us has *not* thereby opted in, and a refusal is recorded (on the marker
and in the audit log) rather than retried.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from celery import shared_task

from messaging.autoreply import config as autoreply_config
from messaging.autoreply import cooldown
from messaging.autoreply.staff_notification import notify_staff
from messaging.autoreply.trigger import InboundEvent
from messaging.outbound.send import Refused, load_contact, send_message
from messaging.outbound.template_catalog import approved_templates
from messaging.whatsapp_table import WaNotificationSent
from wecare.dlq import DeadLetterTask
from wecare.dynamo import now
from wecare.errors import FieldErrors
from wecare.metrics import emit

log = logging.getLogger("messaging.autoreply")

SYSTEM_ACTOR = None  # wecare.audit records no person as "system"


@shared_task(base=DeadLetterTask, name="messaging.after_inbound")  # routed to "default" (settings.CELERY_TASK_ROUTES)
def after_inbound(event: dict) -> dict[str, str]:
    inbound = InboundEvent.parse(event)
    return {"welcome": send_welcome(inbound), "menu": send_menu(inbound), "staff": notify_staff(inbound)}


def send_welcome(inbound: InboundEvent) -> str:
    if inbound.consent_signal:
        return "consent_keyword"  # STOP/START has its own confirmation (messaging/inbound/consent_signals.py)
    config = autoreply_config.load_welcome(inbound.phone_number_id)
    if config is None or not config.enabled:
        return "off"
    if config.onlyOnFirstContact and not (inbound.is_first_message or inbound.is_new_contact):
        return "not_first_contact"
    marker = _claim_cooldown("welcome", inbound, config.cooldownHours)
    if marker is None:
        return "cooldown"
    return _send(marker, inbound, _welcome_content(config, inbound), source="welcome")


def _welcome_content(config: Any, inbound: InboundEvent) -> dict[str, Any]:
    """Free-form text while the customer's window is open; the configured template when it has
    closed (a replay of an old event). With no template, free-form goes to the gate, which
    refuses it (TEMPLATE_REQUIRED) and that refusal is what gets recorded."""
    contact = load_contact(inbound.contact_id)
    window_open = contact is not None and contact.whatsapp_window_expires_at(now()) is not None
    if window_open or not config.outsideWindowTemplateName:
        return {"text": config.welcomeText}
    language = next(
        (t.templateLanguage for t in approved_templates() if t.templateName == config.outsideWindowTemplateName), None
    )
    # An unknown language is left for send_message to refuse as a field error (recorded as invalid).
    return {"template": {"name": config.outsideWindowTemplateName, "language": language or "", "parameters": {}}}


def matches_trigger(text: str | None, keywords: list[str]) -> bool:
    """The whole message is one of the keywords, ignoring case, spaces and punctuation, so
    "Menu!" asks for the menu but "this is not what I ordered" does not match "hi"."""
    if not text:
        return False
    said = normalise(text)
    return bool(said) and said in {normalise(k) for k in keywords}


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def send_menu(inbound: InboundEvent) -> str:
    if inbound.consent_signal:
        return "consent_keyword"
    config = autoreply_config.load_menu(inbound.phone_number_id)
    if config is None or not config.enabled:
        return "off"
    if not matches_trigger(inbound.text, list(config.triggerKeywords or autoreply_config.DEFAULT_MENU_KEYWORDS)):
        return "no_trigger"
    marker = _claim_cooldown("menu", inbound, config.cooldownHours)
    if marker is None:
        return "cooldown"
    return _send(marker, inbound, {"interactive": autoreply_config.menu_spec(config)}, source="menu")


def _claim_cooldown(kind: str, inbound: InboundEvent, cooldown_hours: float | None) -> WaNotificationSent | None:
    """This conversation's ``kind`` marker for the configured cooldown, or None while one holds."""
    return cooldown.claim(
        kind,
        inbound.conversation_pk,
        trigger_id=inbound.wa_message_id,
        recipient=inbound.customer_phone,
        at=inbound.received_at,
        hold=timedelta(hours=int(cooldown_hours or 0)),
    )


def _send(marker: WaNotificationSent, inbound: InboundEvent, content: dict[str, Any], *, source: str) -> str:
    data = {"contactId": inbound.contact_id, "channel": "whatsapp", "sender": inbound.phone_number_id, **content}
    try:
        message = send_message(data, user=SYSTEM_ACTOR, source=source)
    except Refused as refusal:
        # Not retried: the gate's answer will not change by asking again (no consent is ever
        # inferred). send_message has already written the audit entry with the reason.
        cooldown.settle(marker, "refused", refusal.code)
        log.warning(
            "automatic reply refused",
            extra={"source": source, "contact_id": inbound.contact_id, "reason": refusal.code},
        )
        emit("AutoReplyRefused", source=source)
        return f"refused:{refusal.code}"
    except FieldErrors as invalid:
        # The stored config no longer fits (e.g. its template was withdrawn): an admin must fix it.
        cooldown.settle(marker, "invalid", str(invalid))
        log.error(
            "automatic reply config is not sendable",
            extra={"source": source, "tenant": inbound.phone_number_id, "error": str(invalid)},
        )
        return "invalid"
    except Exception:
        # Anything else (DynamoDB, the queue) sent nothing: give the claim back so the task's
        # retry can send, instead of finding its own claim and calling it a cooldown.
        cooldown.release(marker)
        raise
    cooldown.settle(marker, "queued", message.messageId)
    emit("AutoReplyQueued", source=source)
    return "queued"
