"""SES event notifications: bounces, complaints, deliveries.

Not built yet: the task parks every notification on inbound-dlq, where it is kept for replay
once processing exists (issue 13).
"""

from __future__ import annotations

from celery import shared_task

from wecare.dlq import DeadLetterTask, PermanentError


@shared_task(base=DeadLetterTask, name="messaging.process_email_event")
def process_email_event(message: str, sns_message_id: str | None = None) -> dict:
    raise PermanentError("SES events are not processed yet")
