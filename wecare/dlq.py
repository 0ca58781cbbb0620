"""Dead-letter handling: tasks that keep failing are parked, never lost, and replayed on demand.

A task built on ``DeadLetterTask`` retries with exponential backoff (``max_retries``, default 3).
When the last retry fails, ``on_failure`` *parks* it: the task name and its arguments go to the
work queue's dead-letter queue (SQS) and a DLQMessages item records the error and the replay
count. A worker that dies repeatedly on a message is caught by SQS itself (RedrivePolicy,
maxReceiveCount 5) — replay understands those raw Celery messages too.

``replay`` (``manage.py replay_dlq`` and the admin DLQ page) runs the parked task again through
the same code, synchronously: on success the message leaves the DLQ; on failure its retryCount
goes up and it returns to the DLQ; beyond ``MAX_REPLAYS`` it is refused and left where it is.
The tasks themselves are idempotent, so a replay of something that did get done changes nothing.

Usage::

    @shared_task(base=DeadLetterTask, name="messaging.process_inbound_event", queue="inbound-queue")
    def process_inbound_event(...): ...
"""
