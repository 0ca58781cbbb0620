"""The event inbound processing hands to ``messaging.after_inbound`` for each new message: built
by ``messaging.inbound.followups.after_inbound_event``, read here by the welcome, the menu and the
staff email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wecare.dlq import PermanentError


@dataclass(frozen=True)
class InboundEvent:
    """A new inbound message, as the follow-ups describe it (the dict is a task argument: JSON)."""

    contact_id: str
    customer_phone: str
    phone_number_id: str
    conversation_pk: str
    wa_message_id: str
    message_type: str
    text: str | None
    is_new_contact: bool
    is_first_message: bool
    received_at: datetime
    consent_signal: str | None = None  # "opt_out" / "opt_in": a consent keyword, confirmed on its own

    @classmethod
    def parse(cls, event: Any) -> InboundEvent:
        """The event, or PermanentError naming what is wrong (retrying cannot fix a bad event)."""
        if not isinstance(event, dict):
            raise PermanentError("after_inbound: the event must be a dict")
        missing = [
            k
            for k in ("contactId", "customerPhone", "phoneNumberId", "conversationPk", "waMessageId", "receivedAt")
            if not isinstance(event.get(k), str) or not event[k]
        ]
        if missing:
            raise PermanentError(f"after_inbound: event lacks {', '.join(missing)}")
        try:
            received_at = datetime.fromisoformat(event["receivedAt"].replace("Z", "+00:00"))
        except ValueError:
            raise PermanentError(f"after_inbound: receivedAt {event['receivedAt']!r} is not ISO 8601") from None
        if received_at.tzinfo is None:
            raise PermanentError("after_inbound: receivedAt needs a time zone (UTC)")
        text = event.get("text")
        return cls(
            contact_id=event["contactId"],
            customer_phone=event["customerPhone"],
            phone_number_id=event["phoneNumberId"],
            conversation_pk=event["conversationPk"],
            wa_message_id=event["waMessageId"],
            message_type=str(event.get("messageType") or "unknown"),
            text=text if isinstance(text, str) else None,
            is_new_contact=event.get("isNewContact") is True,
            is_first_message=event.get("isFirstMessage") is True,
            received_at=received_at,
            consent_signal=event.get("consentSignal") if event.get("consentSignal") in ("opt_out", "opt_in") else None,
        )
