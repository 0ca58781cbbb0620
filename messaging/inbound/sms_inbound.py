"""Two-way SMS from customers (End User Messaging SMS, the SNS JSON of an inbound message).

Not built yet: the task parks every notification on inbound-dlq, where it is kept for replay
once processing exists (issue 13).
"""

from __future__ import annotations

from celery import shared_task

from wecare.dlq import DeadLetterTask, PermanentError


@shared_task(base=DeadLetterTask, name="messaging.process_sms_inbound")
def process_sms_inbound(message: str, sns_message_id: str | None = None) -> dict:
    raise PermanentError("two-way SMS is not processed yet")
