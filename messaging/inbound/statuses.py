"""Delivery statuses of our outbound WhatsApp messages: sent -> delivered -> read, or failed,
never backwards, each (wamid, status) applied once; a recent status for a message not recorded
yet is retried (``NotRecordedYet``). Why: docs/design/inbound.md ("Delivery statuses").
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from messaging import counters
from messaging.inbound.events import StatusUpdate
from messaging.inbound.record import IDEMPOTENCY_TTL
from messaging.models import Message, StatusChange
from messaging.outbound import media_ids
from messaging.whatsapp_table import WaIdempotency, WaMessage
from wecare.dynamo import now, transaction
from wecare.metrics import emit

log = logging.getLogger(__name__)

# How long an unknown wamid's status is retried rather than dropped. Our own send records its
# MSG# item within a second or two of the provider call; fifteen minutes covers a slow worker
# or a DynamoDB hiccup between the two, and is short enough that statuses of messages that are
# not ours (another system sharing the number) stop being retried once replayed after it.
RECORDING_GRACE = timedelta(minutes=15)

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
# Counted per (message, status) with the idempotency item that applies it, late ones too: a read
# before its delivered still counts the message as delivered. "sent" is counted by the send itself.
COUNTED = ("delivered", "read", "failed")
# The Messages item's own states before any WhatsApp status arrives.
OUTBOUND_BEFORE_SENT = ("queued", "sending")


# Meta's "Media upload error": the file of a message it had accepted could not be sent. Its media
# id is not reused (docs/design/media.md), so the next send uploads the file again.
MEDIA_UPLOAD_ERROR = "131053"


class NotRecordedYet(Exception):
    """A recent status for a message with no MSG# item yet: retry, the send may still record it."""


def _recent(update: StatusUpdate) -> bool:
    # abs(): a clock a little ahead counts as recent; a timestamp far in the future is nonsense.
    return abs(now() - update.at) <= RECORDING_GRACE


def _lower(status: str) -> tuple[str, ...]:
    return tuple(s for s, r in RANK.items() if r < RANK[status])


def _error(update: StatusUpdate) -> dict[str, Any] | None:
    if not update.errors:
        return None
    first = update.errors[0]
    data = first.get("error_data")
    details = (data.get("details") if isinstance(data, dict) else None) or first.get("message")
    # Stored as strings whatever Meta's JSON held, so an odd error never fails the write.
    title = first.get("title")
    return {
        "code": first.get("code"),
        "title": None if title is None else str(title),
        "details": None if details is None else str(details),
    }


def apply(update: StatusUpdate) -> str:
    """'applied', 'history-only', 'duplicate', 'unknown-message' or 'inbound-message'; raises NotRecordedYet for a
    recent status whose message is not recorded (yet)."""
    try:
        item = WaMessage.get(WaMessage.key(update.wa_message_id), consistent_read=True)
    except WaMessage.DoesNotExist:
        if _recent(update):
            raise NotRecordedYet(
                f"{update.status} status for {update.wa_message_id} at {update.at.isoformat()}: no MSG# item yet"
            ) from None
        log.info(
            "status for a message we have no record of",
            extra={"wa_message_id": update.wa_message_id, "status": update.status},
        )
        return "unknown-message"
    if item.direction != "OUTBOUND":
        # Delivery ticks are about what we sent; a status naming a customer's own message has
        # nothing to move (and the inbound Messages item has no outbound state to move it from).
        log.info(
            "status for an inbound message ignored",
            extra={"wa_message_id": update.wa_message_id, "status": update.status},
        )
        return "inbound-message"
    error = _error(update)
    entry: dict[str, Any] = {"status": update.status, "at": update.at.isoformat(), "recordedAt": now().isoformat()}
    if error:
        entry["error"] = {k: v for k, v in error.items() if v is not None}
    if update.status in RANK and _write(update, item, entry, error, move=True):
        if update.status == "failed":  # once per message: the failure rate alarm's numerator
            emit("MessagesDeliveryFailed", channel="whatsapp")
        if error and str(error.get("code")) == MEDIA_UPLOAD_ERROR and item.messageId:
            _discard_media(item.messageId)
        return "applied"
    # Late, final already, or not a step forward at all: the history still says it happened.
    if _write(update, item, entry, error, move=False):
        return "history-only"
    return "duplicate"


def _discard_media(message_id: str) -> None:
    try:
        message = Message.get(message_id, consistent_read=True)
    except Message.DoesNotExist:
        return
    if media_ids.discard_sent(message):
        log.info("media id WhatsApp failed is no longer reused", extra={"message_id": message_id})


def _write(
    update: StatusUpdate,
    item: WaMessage,
    entry: dict[str, Any],
    error: dict[str, Any] | None,
    *,
    move: bool,
    with_message: bool = True,
) -> bool:
    """One transaction: the idempotency item and the changes to both records. False when a
    condition says no: this (wamid, status) was applied before, or (``move``) the status may not
    replace the current one."""
    wa_actions = [WaMessage.deliveryStatusHistory.set(WaMessage.deliveryStatusHistory.append([entry]))]
    wa_condition = WaMessage.pk.exists()
    message_actions = [
        Message.statusHistory.set(
            Message.statusHistory.append([StatusChange(status=update.status, at=update.at, details=entry.get("error"))])
        )
    ]
    message_condition = Message.messageId.exists()
    if move:
        lower = _lower(update.status)
        wa_actions.append(WaMessage.deliveryStatus.set(update.status))
        wa_condition &= (
            (WaMessage.deliveryStatus.does_not_exist() | WaMessage.deliveryStatus.is_in(*lower))
            if lower
            else WaMessage.deliveryStatus.does_not_exist()
        )
        message_actions.append(Message.status.set(update.status))
        message_condition &= Message.status.is_in(*OUTBOUND_BEFORE_SENT, *lower)
        if error:
            wa_actions += [
                WaMessage.errorCode.set(error["code"])
                if isinstance(error["code"], int)
                else WaMessage.errorCode.remove()
            ]
            wa_actions += [
                WaMessage.errorTitle.set(error["title"] or ""),
                WaMessage.errorDetails.set(error["details"] or ""),
            ]
            message_actions.append(Message.errorDetails.set({**error, "source": "whatsapp status"}))
    tx = transaction()
    try:
        with tx:
            tx.save(
                WaIdempotency(
                    pk=WaIdempotency.key(f"{update.wa_message_id}#{update.status}"),
                    eventType=f"status:{update.status}",
                    processedAt=now().isoformat(),
                    ttl=IDEMPOTENCY_TTL,
                ),
                condition=WaIdempotency.pk.does_not_exist(),
                label="event",
            )
            if update.status in COUNTED:
                counters.add_after(tx, counters.outbound("whatsapp", update.status))
            tx.update(WaMessage(pk=item.pk), actions=wa_actions, condition=wa_condition, label="wa")
            if item.messageId and with_message:
                tx.update(
                    Message(messageId=item.messageId),
                    actions=message_actions,
                    condition=message_condition,
                    label="message",
                )
    except TransactWriteError as exc:
        failed = tx.failed_labels(exc)
        if "event" in failed:
            return False
        if move and failed:
            return False
        if failed == ["message"]:  # the Messages item expired (30 days) before its last status
            return _write(update, item, entry, error, move=False, with_message=False)
        raise
    return True
