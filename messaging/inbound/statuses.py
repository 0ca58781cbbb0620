"""Delivery statuses of our outbound WhatsApp messages: sent -> delivered -> read, or failed.

Meta does not promise order: a ``delivered`` can arrive after its ``read``. Each status has a
rank, and the update's condition only lets a status replace a lower one, so the ticks never go
backwards; ``failed`` outranks everything and is final. A status that may not move the message
(late, or ``deleted``/``warning``, which are news rather than progress) is still written to the
history. Every (wamid, status) is applied once: an ``EVENT#{wamid}#{status}`` idempotency item
rides in the same transaction as the changes.

The ``MSG#`` item carries the Messages item's id (``messageId``), so one key read finds both.
A status for a wamid we never sent (another system on the same number, or a send recorded
before that id existed here) is logged and skipped: retrying cannot make it ours.
"""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import TransactWriteError

from messaging.inbound.events import StatusUpdate
from messaging.inbound.record import IDEMPOTENCY_TTL
from messaging.models import Message, StatusChange
from messaging.whatsapp_table import WaIdempotency, WaMessage
from wecare.dynamo import now, transaction

log = logging.getLogger(__name__)

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
# The Messages item's own states before any WhatsApp status arrives.
OUTBOUND_BEFORE_SENT = ("queued", "sending")


def _lower(status: str) -> tuple[str, ...]:
    return tuple(s for s, r in RANK.items() if r < RANK[status])


def _error(update: StatusUpdate) -> dict[str, Any] | None:
    if not update.errors:
        return None
    first = update.errors[0]
    details = (first.get("error_data") or {}).get("details") or first.get("message")
    return {"code": first.get("code"), "title": first.get("title"), "details": details}


def apply(update: StatusUpdate) -> str:
    """'applied', 'history-only', 'duplicate' or 'unknown-message'."""
    try:
        item = WaMessage.get(WaMessage.key(update.wa_message_id), consistent_read=True)
    except WaMessage.DoesNotExist:
        log.info("status for a message we have no record of", extra={"wa_message_id": update.wa_message_id, "status": update.status})
        return "unknown-message"
    error = _error(update)
    entry: dict[str, Any] = {"status": update.status, "at": update.at.isoformat(), "recordedAt": now().isoformat()}
    if error:
        entry["error"] = {k: v for k, v in error.items() if v is not None}
    if update.status in RANK and _write(update, item, entry, error, move=True):
        return "applied"
    # Late, final already, or not a step forward at all: the history still says it happened.
    if _write(update, item, entry, error, move=False):
        return "history-only"
    return "duplicate"


def _write(update: StatusUpdate, item: WaMessage, entry: dict[str, Any], error: dict[str, Any] | None, *, move: bool, with_message: bool = True) -> bool:
    """One transaction: the idempotency item and the changes to both records. False when a
    condition says no: this (wamid, status) was applied before, or (``move``) the status may not
    replace the current one."""
    wa_actions = [WaMessage.deliveryStatusHistory.set(WaMessage.deliveryStatusHistory.append([entry]))]
    wa_condition = WaMessage.pk.exists()
    message_actions = [Message.statusHistory.set(Message.statusHistory.append([StatusChange(status=update.status, at=update.at, details=entry.get("error"))]))]
    message_condition = Message.messageId.exists()
    if move:
        lower = _lower(update.status)
        wa_actions.append(WaMessage.deliveryStatus.set(update.status))
        wa_condition &= (WaMessage.deliveryStatus.does_not_exist() | WaMessage.deliveryStatus.is_in(*lower)) if lower else WaMessage.deliveryStatus.does_not_exist()
        message_actions.append(Message.status.set(update.status))
        message_condition &= Message.status.is_in(*OUTBOUND_BEFORE_SENT, *lower)
        if error:
            wa_actions += [WaMessage.errorCode.set(error["code"]) if isinstance(error["code"], int) else WaMessage.errorCode.remove()]
            wa_actions += [WaMessage.errorTitle.set(error["title"] or ""), WaMessage.errorDetails.set(error["details"] or "")]
            message_actions.append(Message.errorDetails.set({**error, "source": "whatsapp status"}))
    tx = transaction()
    try:
        with tx:
            tx.save(
                WaIdempotency(pk=WaIdempotency.key(f"{update.wa_message_id}#{update.status}"), eventType=f"status:{update.status}", processedAt=now().isoformat(), ttl=IDEMPOTENCY_TTL),
                condition=WaIdempotency.pk.does_not_exist(),
                label="event",
            )
            tx.update(WaMessage(pk=item.pk), actions=wa_actions, condition=wa_condition, label="wa")
            if item.messageId and with_message:
                tx.update(Message(messageId=item.messageId), actions=message_actions, condition=message_condition, label="message")
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
