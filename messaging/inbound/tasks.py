"""Celery tasks of inbound WhatsApp, on ``inbound-queue``.

Both are idempotent (acks late: a worker lost mid-task means SQS delivers the task again) and
take JSON-serialisable arguments, as ``wecare.dlq.DeadLetterTask`` replays require: they retry
with backoff and, still failing, wait on ``inbound-dlq`` for ``manage.py replay_dlq``.
"""

from __future__ import annotations

import logging

from celery import shared_task

from messaging.inbound import media
from messaging.inbound.events import MalformedEvent
from messaging.inbound.process import process
from wecare.dlq import DeadLetterTask, PermanentError

log = logging.getLogger(__name__)


# Queue: inbound-queue (settings.CELERY_TASK_ROUTES). DeadLetterTask retries with backoff, then
# parks on inbound-dlq; a PermanentError skips the retries and parks at once.
@shared_task(base=DeadLetterTask, name="messaging.process_inbound_event")
def process_inbound_event(message: str, sns_message_id: str | None = None) -> dict:
    """``message``: the SNS Message string (the EUM event JSON)."""
    try:
        return process(message, sns_message_id=sns_message_id)
    except MalformedEvent as exc:
        # Retrying the same bytes cannot help: parked on the DLQ at once, kept for a person to read.
        log.error("unusable inbound event", extra={"sns_message_id": sns_message_id, "error": str(exc), "body": message[:2000]})
        raise PermanentError(str(exc)) from exc


@shared_task(base=DeadLetterTask, name="messaging.fetch_inbound_media")  # inbound-queue
def fetch_inbound_media(wa_message_id: str) -> str:
    return media.fetch(wa_message_id)
