"""SMS delivery events from the SMS configuration set's SNS event destination: the sent message
(found by the provider's id, ``Messages.providerMessageId``) moves to delivered or failed (with the
carrier's reason), never backwards, each (message id, event type) once; a recent event for a
message not recorded yet is retried. docs/design/inbound.md, "SMS delivery events".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from pynamodb.exceptions import TransactWriteError

from messaging import counters
from messaging.inbound.statuses import RECORDING_GRACE, NotRecordedYet
from messaging.models import MESSAGE_RETENTION_DAYS, InboundEvent, Message, StatusChange
from wecare.dlq import DeadLetterTask, PermanentError
from wecare.dynamo import now, transaction
from wecare.metrics import emit

log = logging.getLogger(__name__)

# AWS's SMS event types (https://docs.aws.amazon.com/sms-voice/latest/userguide/configuration-sets-event-types.html)
# and the status each moves a sent message to. TEXT_SUCCESSFUL (the carrier accepted it) and
# TEXT_DELIVERED "may be used interchangeably" depending on the country, so both count as
# delivered. Queued and pending say the message is on its way: kept in the history only, as is
# any type AWS adds later.
DELIVERED = frozenset({"TEXT_DELIVERED", "TEXT_SUCCESSFUL"})
FAILED = frozenset(
    {
        "TEXT_BLOCKED",
        "TEXT_TTL_EXPIRED",
        "TEXT_CARRIER_UNREACHABLE",
        "TEXT_INVALID",
        "TEXT_INVALID_MESSAGE",
        "TEXT_CARRIER_BLOCKED",
        "TEXT_UNREACHABLE",
        "TEXT_SPAM",
        "TEXT_UNKNOWN",
        "TEXT_PROTECT_BLOCKED",
    }
)
# A status moves only from "sent": delivered and failed are final, and the first final one stays
# (a late TEXT_UNKNOWN after a delivery, or a repeat, only adds to the history).
MOVES_FROM = ("sent",)
MAX_TEXT = 1000
RETENTION = timedelta(days=MESSAGE_RETENTION_DAYS)


class MalformedSmsEvent(ValueError):
    """Not an SMS event we can apply: parked on inbound-dlq with the reason."""


@dataclass(frozen=True)
class SmsEvent:
    event_type: str
    provider_message_id: str
    at: datetime
    message_status: str | None
    description: str | None

    @property
    def status(self) -> str | None:
        """The message status this event moves to, or None (history only)."""
        if self.event_type in DELIVERED:
            return "delivered"
        if self.event_type in FAILED:
            return "failed"
        return None

    @property
    def event_key(self) -> str:
        return f"sms-event#{self.provider_message_id}#{self.event_type}"

    def details(self) -> dict[str, Any]:
        found = {
            "eventType": self.event_type,
            "messageStatus": self.message_status,
            "messageStatusDescription": self.description,
        }
        return {k: v for k, v in found.items() if v is not None}


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    return str(value)[:MAX_TEXT] if value is not None else None


def parse(message: str) -> SmsEvent:
    try:
        body = json.loads(message)
    except ValueError as exc:
        raise MalformedSmsEvent(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise MalformedSmsEvent("not a JSON object")
    event_type, message_id, stamp = body.get("eventType"), body.get("messageId"), body.get("eventTimestamp")
    if not isinstance(event_type, str) or not event_type.startswith("TEXT_") or len(event_type) > 64:
        raise MalformedSmsEvent("eventType is not an SMS event type")
    if not isinstance(message_id, str) or not message_id.strip() or len(message_id) > 200:
        raise MalformedSmsEvent("messageId is missing")
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        raise MalformedSmsEvent("eventTimestamp is not a number of milliseconds")
    try:
        at = datetime.fromtimestamp(stamp / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedSmsEvent("eventTimestamp is out of range") from None
    return SmsEvent(
        event_type=event_type,
        provider_message_id=message_id.strip(),
        at=at,
        message_status=_optional_text(body, "messageStatus"),
        description=_optional_text(body, "messageStatusDescription"),
    )


def _find(event: SmsEvent) -> Message | None:
    # The index is eventually consistent: a message sent a moment ago may show up on the retry.
    found = list(Message.by_provider_id.query(event.provider_message_id, limit=2))
    outbound = [m for m in found if m.channel == "sms" and m.direction == "outbound"]
    return outbound[0] if outbound else None


def apply(event: SmsEvent, *, sns_message_id: str | None = None) -> str:
    """'applied', 'history-only', 'duplicate' or 'unknown-message'; raises NotRecordedYet for a
    recent event whose message is not found (yet)."""
    message = _find(event)
    if message is None:
        if abs(now() - event.at) <= RECORDING_GRACE:
            raise NotRecordedYet(f"{event.event_type} for SMS {event.provider_message_id}: no message recorded yet")
        log.info(
            "sms event for a message we have no record of",
            extra={"provider_message_id": event.provider_message_id, "event_type": event.event_type},
        )
        return "unknown-message"
    status = event.status
    if status is not None and _write(event, message, sns_message_id, move=True):
        if status == "failed":  # once per message: the failure rate alarm's numerator
            emit("MessagesDeliveryFailed", channel="sms")
        return "applied"
    # Not a step forward (already final), or history only: the history still says it happened.
    if _write(event, message, sns_message_id, move=False):
        return "history-only"
    return "duplicate"


def _write(event: SmsEvent, message: Message, sns_message_id: str | None, *, move: bool) -> bool:
    """The idempotency item and the message's change in one transaction. False when this event
    was applied before, or (``move``) the message is no longer in a state it may move from."""
    details = event.details()
    status = event.status if move else None
    entry = StatusChange(status=status or event.event_type.removeprefix("TEXT_").lower(), at=event.at, details=details)
    actions = [Message.statusHistory.set(Message.statusHistory.append([entry]))]
    condition = Message.messageId.exists()
    if status is not None:
        actions.append(Message.status.set(status))
        condition &= Message.status.is_in(*MOVES_FROM)
        if status == "failed":
            actions.append(Message.errorDetails.set({"code": event.event_type, **details, "source": "sms event"}))
    tx = transaction()
    try:
        with tx:
            tx.save(
                InboundEvent(
                    eventKey=event.event_key,
                    kind="sms_event",
                    processedAt=now(),
                    snsMessageId=sns_message_id,
                    messageId=message.messageId,
                    expiresAt=RETENTION,
                ),
                condition=InboundEvent.eventKey.does_not_exist(),
                label="event",
            )
            tx.update(Message(messageId=message.messageId), actions=actions, condition=condition, label="message")
            if status is not None:  # the message moves forward only, so it reaches each status once
                counters.add_after(tx, counters.outbound("sms", status))
    except TransactWriteError as exc:
        if tx.failed_labels(exc):
            return False
        raise
    return True


def process(message: str, *, sns_message_id: str | None = None) -> dict[str, Any]:
    event = parse(message)
    outcome = apply(event, sns_message_id=sns_message_id)
    log.info(
        "sms event processed",
        extra={
            "sns_message_id": sns_message_id,
            "provider_message_id": event.provider_message_id,
            "event_type": event.event_type,
            "outcome": outcome,
        },
    )
    return {"outcome": outcome, "eventType": event.event_type}


# Queue: inbound-queue. NotRecordedYet (and anything else) retries with backoff, then parks on
# inbound-dlq; a PermanentError parks at once.
@shared_task(base=DeadLetterTask, name="messaging.process_sms_event")
def process_sms_event(message: str, sns_message_id: str | None = None) -> dict:
    """``message``: the SNS Message string (the SMS event JSON)."""
    try:
        return process(message, sns_message_id=sns_message_id)
    except MalformedSmsEvent as exc:
        log.error(
            "unusable sms event",
            extra={"sns_message_id": sns_message_id, "error": str(exc), "body": message[:2000]},
        )
        raise PermanentError(str(exc)) from exc
