"""A customer's consent signal on WhatsApp, one of the follow-ups of a recorded inbound message: a
text that is an opt-out word (STOP) or an opt-in word (START), or a tap on a marketing template's
opt-out quick-reply button, changes the contact's WhatsApp opt-in through
``contacts.consent.change`` (the customer as actor, the message as evidence), and then one
confirmation goes out through the gate's consent-confirmation purpose. Safe to repeat: a second
run changes nothing and confirms nothing twice. docs/design/inbound.md, "Consent keywords".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contacts import consent
from contacts.models import Contact
from contacts.queries import consent_history
from messaging.autoreply import keyword_rules
from messaging.inbound.keywords import Intent, classify, classify_button
from messaging.outbound.send import Refused, Superseded, send_consent_confirmation
from messaging.whatsapp_table import WaMessage
from wecare.errors import FieldErrors, NotFound
from wecare.metrics import emit

log = logging.getLogger("messaging.consent_signals")

CHANNEL = "whatsapp"


@dataclass(frozen=True)
class Signal:
    intent: Intent
    source: str  # contacts.consent.SOURCES: "keyword" | "template_button"
    evidence: dict[str, Any]


def signal_of(item: WaMessage, follow_up: dict[str, Any]) -> Signal | None:
    """What an inbound message says about consent, if anything. Only a text and a template's
    quick-reply button can: a list or button reply of an interactive message is an answer to our
    question, not a keyword."""
    wa_message_id = item.pk.removeprefix("MSG#")
    evidence: dict[str, Any]
    if item.type == "text":
        intent = classify(CHANNEL, item.textBody)
        evidence = {"messageId": wa_message_id, "keyword": item.textBody}
        return Signal(intent, "keyword", evidence) if intent else None
    if item.type == "button":
        payload = follow_up.get("buttonPayload")
        intent = classify_button(CHANNEL, item.textBody, payload)
        evidence = {"messageId": wa_message_id, "button": item.textBody, "payload": payload}
        return Signal(intent, "template_button", evidence) if intent else None
    return None


def apply(item: WaMessage, follow_up: dict[str, Any]) -> Signal | None:
    """Apply the message's consent signal and confirm it; the signal (None when there is none),
    so that the automatic replies leave the message alone."""
    signal = signal_of(item, follow_up)
    if signal is None or not item.contactId:
        return signal
    wa_message_id = signal.evidence["messageId"]
    contact = _live_contact(item.contactId)
    if contact is None:
        log.info("consent signal for a contact that is gone", extra={"wa_message_id": wa_message_id})
        return signal
    if _superseded(contact, item, wa_message_id):
        # A redelivery after a later change (the customer's next word, a person's): this older
        # signal must not undo it, and is not confirmed.
        log.info("consent signal older than the consent", extra={"wa_message_id": wa_message_id})
        return signal
    try:
        contact = consent.change(
            contact,
            CHANNEL,
            signal.intent == Intent.OPT_IN,
            source=signal.source,
            actor=consent.CUSTOMER,
            evidence=signal.evidence,
        )
    except NotFound:  # deleted between the read and the change
        return signal
    if not _changed_by(contact.contactId, wa_message_id):
        # Already so (a second STOP, or STOP from someone never opted in): nothing changed, and
        # nothing is confirmed, so a customer is never told twice.
        log.info("consent signal changed nothing", extra={"wa_message_id": wa_message_id, "intent": signal.intent})
        return signal
    emit("ConsentSignal", channel=CHANNEL, intent=str(signal.intent), source=signal.source)
    outcome = _confirm(item, contact, signal)
    log.info(
        "consent signal applied",
        extra={"wa_message_id": wa_message_id, "intent": signal.intent, "confirmation": outcome},
    )
    return signal


def _live_contact(contact_id: str) -> Contact | None:
    try:
        contact = Contact.get(contact_id, consistent_read=True)
    except Contact.DoesNotExist:
        return None
    return None if contact.is_deleted else contact


def _superseded(contact: Contact, item: WaMessage, wa_message_id: str) -> bool:
    """Whether the contact's WhatsApp consent was last changed after this message was received,
    by something else than this message."""
    try:
        received = datetime.fromisoformat(item.receivedAt or "")
    except ValueError:
        return False
    return consent.superseded(contact, CHANNEL, received, evidence_key="messageId", evidence_value=wa_message_id)


def _changed_by(contact_id: str, wa_message_id: str) -> bool:
    """Whether this message made the contact's latest WhatsApp consent change. Read from the
    history rather than from ``change``'s answer, so that a redelivery after a crash (the change
    made, the confirmation not yet) still confirms, and a racing second delivery agrees."""
    newest = next(iter(consent_history(contact_id, CHANNEL)), None)
    return newest is not None and (newest.evidence or {}).get("messageId") == wa_message_id


def _confirm(item: WaMessage, contact: Contact, signal: Signal) -> str:
    """Ask the gate for the confirmation. Asking again is safe: the gate derives the message's id
    from the consent change, so a redelivery or a racing second delivery queues nothing more."""
    rules = keyword_rules.load(CHANNEL)
    text = rules.opt_out_confirmation if signal.intent == Intent.OPT_OUT else rules.opt_in_confirmation
    if not text:
        return "no_text"
    wa_message_id = signal.evidence["messageId"]
    try:
        send_consent_confirmation(
            contact, CHANNEL, item.originationPhoneNumberId, text, {**signal.evidence, "source": signal.source}
        )
    except Refused as refusal:
        # E.g. a replay long after the change: it is no longer an answer to what the customer
        # did. The gate has audited it; asking again will not change its answer.
        log.warning("consent confirmation refused", extra={"wa_message_id": wa_message_id, "reason": refusal.code})
        return f"refused:{refusal.code}"
    except Superseded:
        return "superseded"  # a later keyword of theirs changed consent again: its own confirmation answers it
    except FieldErrors as invalid:
        # The stored text no longer fits the channel: an admin must fix the rules.
        log.error("consent confirmation not sendable", extra={"wa_message_id": wa_message_id, "error": str(invalid)})
        return "invalid"
    return "queued"
