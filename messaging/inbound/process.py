"""One EUM event, start to finish (the ``messaging.process_inbound_event`` task): parse, then
each message (a duplicate is recognised by one key read, then recorded once and finished) and
each status. The design: docs/design/inbound.md.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from celery import shared_task

from messaging.inbound import fields, statuses
from messaging.inbound.contacts import find_or_create
from messaging.inbound.events import InboundMessage, MalformedEvent, parse
from messaging.inbound.followups import finish
from messaging.inbound.record import record
from messaging.whatsapp_table import WaMessage
from wecare.dlq import DeadLetterTask, PermanentError

log = logging.getLogger(__name__)


def process(body: str, *, sns_message_id: str | None = None) -> dict[str, Any]:
    """Returns counts: {"recorded", "duplicates", "statuses": {outcome: n}, "skipped"}, plus
    "changes": {"field:outcome": n} when the event had any (account health and calls, ``messaging.inbound.fields``).

    Raises MalformedEvent (permanent) when the body is not an EUM event, and NotRecordedYet when
    a recent status's message is not recorded yet; that and anything else that fails (DynamoDB
    unreachable…) propagates so the task retries: what was done is not redone."""
    event = parse(body)
    for reason in event.skipped:
        log.warning(
            "inbound event item left out",
            extra={"sns_message_id": sns_message_id, "event_id": event.event_id, "reason": reason},
        )
    recorded = duplicates = 0
    for message in event.messages:
        if _receive(message):
            recorded += 1
        else:
            duplicates += 1
    outcomes: Counter[str] = Counter()
    early: list[str] = []
    for status in event.statuses:
        # Every status gets its turn before an early one makes the whole event retry: the retry
        # finds the others applied (idempotency items) and changes them no further.
        try:
            outcomes[statuses.apply(status)] += 1
        except statuses.NotRecordedYet as exc:
            outcomes["not-recorded-yet"] += 1
            early.append(str(exc))
    changes: Counter[str] = Counter()
    for change in event.field_changes:
        changes[f"{change.field}:{fields.apply(change)}"] += 1
    summary = {
        "recorded": recorded,
        "duplicates": duplicates,
        "statuses": dict(outcomes),
        "skipped": len(event.skipped),
        **({"changes": dict(changes)} if changes else {}),
    }
    log.info("inbound event processed", extra={"sns_message_id": sns_message_id, "event_id": event.event_id, **summary})
    if early:
        raise statuses.NotRecordedYet("; ".join(early))
    return summary


def _receive(message: InboundMessage) -> bool:
    """True if this call recorded the message."""
    try:
        existing = WaMessage.get(WaMessage.key(message.wa_message_id), consistent_read=True)
    except WaMessage.DoesNotExist:
        existing = None
    if existing is not None:
        finish(existing)
        return False
    contact, created = find_or_create(message.sender, message.sender_name, wa_message_id=message.wa_message_id)
    result = record(message, contact, contact_created=created)
    if not result.new:
        finish(WaMessage.get(WaMessage.key(message.wa_message_id), consistent_read=True))
        return False
    assert result.wa_item is not None  # a new record carries the item it wrote
    finish(result.wa_item)
    return True


# Queue: inbound-queue (settings.CELERY_TASK_ROUTES). DeadLetterTask retries with backoff, then
# parks on inbound-dlq; a PermanentError skips the retries and parks at once. Idempotent (acks
# late: a worker lost mid-task means SQS delivers it again) with JSON arguments, as replays need.
@shared_task(base=DeadLetterTask, name="messaging.process_inbound_event")
def process_inbound_event(message: str, sns_message_id: str | None = None) -> dict:
    """``message``: the SNS Message string (the EUM event JSON)."""
    try:
        return process(message, sns_message_id=sns_message_id)
    except MalformedEvent as exc:
        # Retrying the same bytes cannot help: parked on the DLQ at once, kept for a person to read.
        log.error(
            "unusable inbound event",
            extra={"sns_message_id": sns_message_id, "error": str(exc), "body": message[:2000]},
        )
        raise PermanentError(str(exc)) from exc
