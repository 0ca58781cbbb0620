"""At most one automatic message per conversation per cooldown: a NOTIFICATION_SENT marker.

Before an automatic reply (welcome, menu) or a staff email goes out, the caller *claims* the
marker ``NOTIFICATION#{kind}#{conversationPk}`` with one conditional write. The write succeeds
only if there is no marker, or the last one's cooldown (its ``ttl``) has passed and it was made
for another inbound message. So, whatever runs concurrently or is delivered twice:

* two tasks for the same message: one claims, the other finds the marker and sends nothing;
* a later message within the cooldown: finds a live marker, sends nothing;
* the same message replayed after the cooldown: still its own marker, sends nothing.

The claim comes *before* the send: the promise is at most once. A crash between claim and send
loses that one automatic message (the marker stays ``claimed``, which says so); it never
doubles it. ``ttl`` is the cooldown's end, so DynamoDB also deletes markers nobody needs.

The clock is the inbound message's ``receivedAt``, not the worker's: a message is judged by when
the customer wrote, however late its task runs, and tests can set it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError

from messaging.whatsapp_table import WaNotificationSent
from wecare.dynamo import set_nullable

log = logging.getLogger("messaging.cooldown")


def marker_key(kind: str, conversation_pk: str) -> str:
    return f"NOTIFICATION#{kind}#{conversation_pk}"


def claim(
    kind: str, conversation_pk: str, *, trigger_id: str, recipient: str, at: datetime, hold: timedelta
) -> WaNotificationSent | None:
    """The marker, now ours; or None when the cooldown (or this very message) already has one."""
    marker = WaNotificationSent(
        pk=marker_key(kind, conversation_pk),
        notificationType=kind,
        recipient=recipient,
        messageId=trigger_id,
        sentAt=at.isoformat(),
        receivedAt=at.isoformat(),  # lists markers by time on the itemType index
        ttl=at + hold,
        outcome="claimed",
    )
    free = WaNotificationSent.pk.does_not_exist() | (
        (WaNotificationSent.ttl <= at) & (WaNotificationSent.messageId != trigger_id)
    )
    try:
        marker.save(condition=free)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            log.info(
                "cooldown holds; nothing sent",
                extra={"kind": kind, "conversation_pk": conversation_pk, "trigger_id": trigger_id},
            )
            return None
        raise
    return marker


def settle(marker: WaNotificationSent, outcome: str, detail: str | None = None) -> None:
    """Write what became of a claimed marker (sent, queued, refused, …), for people reading it."""
    marker.update(actions=[WaNotificationSent.outcome.set(outcome), set_nullable(WaNotificationSent.detail, detail)])


def release(marker: WaNotificationSent) -> None:
    """Give the claim back after a failure that sent nothing, so the task's retry may try again.
    Only our own claim is removed, never a newer message's."""
    try:
        marker.delete(
            condition=(WaNotificationSent.messageId == marker.messageId) & (WaNotificationSent.outcome == "claimed")
        )
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
