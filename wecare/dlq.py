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

    @shared_task(base=DeadLetterTask, name="messaging.process_inbound_event")
    def process_inbound_event(...): ...

    # and its queue in settings.CELERY_TASK_ROUTES, e.g. {"queue": "inbound-queue"}: a parked
    # task goes to that queue's DLQ (WORK_QUEUES).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from celery import Task, current_app
from django.conf import settings
from django.urls import reverse
from ulid import ULID

from wecare import aws
from wecare.alerts import Kind, raise_alert
from wecare.dynamo import not_expired, now
from wecare.metrics import emit
from wecare.models import DLQMessage
from wecare.queues import DEAD_LETTER_QUEUES, WORK_QUEUES, queue_url

log = logging.getLogger("wecare.dlq")

MAX_REPLAYS = 5  # a message replayed and failing this often needs a person, not another try
RETENTION = timedelta(days=7)  # DLQMessages items (SQS keeps DLQ messages 14 days)
RECEIVE_VISIBILITY_SECONDS = (
    600  # received messages stay hidden (from a second replayer too) while a run works through them
)


class UnknownQueue(ValueError):
    pass


def dlq_for(work_queue: str) -> str:
    return WORK_QUEUES[work_queue]


def _url(name: str) -> str:
    if name not in WORK_QUEUES and name not in DEAD_LETTER_QUEUES:
        raise UnknownQueue(f"unknown queue {name!r}: use one of {', '.join(DEAD_LETTER_QUEUES)}")
    return queue_url(
        name,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region=settings.AWS_REGION,
        account_id=settings.AWS_ACCOUNT_ID,
        prefix=settings.SQS_QUEUE_PREFIX,
    )


def fingerprint(task: str, args: list | tuple, kwargs: dict) -> str:
    """Identical work has an identical id, so two parked copies of one event replay once."""
    raw = json.dumps([task, list(args), kwargs], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class Parked:
    """What a dead-letter message carries: enough to run the task again."""

    task: str
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    dlq_message_id: str | None = None
    error: str | None = None

    @property
    def original_id(self) -> str:
        return fingerprint(self.task, self.args, self.kwargs)

    def body(self) -> str:
        return json.dumps(
            {
                "parked": 1,
                "task": self.task,
                "args": self.args,
                "kwargs": self.kwargs,
                "dlqMessageId": self.dlq_message_id,
                "error": self.error,
            }
        )


def park(*, work_queue: str, task: str, args: list | tuple, kwargs: dict, error: str) -> str:
    """Put a task that kept failing on its work queue's DLQ and record it; returns the dlqMessageId."""
    dlq = dlq_for(work_queue)
    dlq_message_id = str(ULID())
    parked = Parked(task=task, args=list(args), kwargs=dict(kwargs), dlq_message_id=dlq_message_id, error=error[:2000])
    DLQMessage(
        dlqMessageId=parked.dlq_message_id,
        originalMessageId=parked.original_id,
        queueName=dlq,
        retryCount=0,
        lastAttemptAt=now(),
        payload=parked.body(),
        expiresAt=RETENTION,
    ).save()
    aws.client("sqs").send_message(QueueUrl=_url(dlq), MessageBody=parked.body())
    log.error(
        "parked on dead-letter queue",
        extra={"queue": dlq, "task": task, "dlq_message_id": parked.dlq_message_id, "error": parked.error},
    )
    emit("DeadLettered", 1, "Count", Queue=dlq)
    raise_alert(
        Kind.DLQ_PARKED,
        dlq,
        f"{task} kept failing and was parked on {dlq}: {parked.error}",
        link=reverse("dynamo_admin:dlq"),
    )
    return dlq_message_id


class PermanentError(Exception):
    """Retrying cannot help (e.g. the input is malformed): park at once."""


class DeadLetterTask(Task):
    """A task whose failures are parked on a DLQ after retries, never dropped.

    Retries: any exception, exponential backoff with jitter (1 s, 2 s, 4 s … capped at 60 s), at
    most ``max_retries``. A task that knows an error is permanent raises ``PermanentError``: no
    retries, straight to the DLQ.
    """

    abstract = True
    acks_late = True
    autoretry_for = (Exception,)
    dont_autoretry_for = (PermanentError,)
    max_retries = 3
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # Celery calls this after the last retry
        if (self.request.headers or {}).get("dlq_replay") or getattr(self.request, "dlq_replay", False):
            return  # a replay reports its own failure; never park a second copy
        work_queue = (
            getattr(self, "queue", None) or settings.CELERY_TASK_ROUTES.get(self.name, {}).get("queue") or "default"
        )
        try:
            park(work_queue=work_queue, task=self.name, args=args, kwargs=kwargs, error=f"{type(exc).__name__}: {exc}")
        except Exception:  # the DLQ itself unreachable: the log line is the last record we can make
            log.exception(
                "could not park failed task",
                extra={"task": self.name, "task_args": json.dumps([args, kwargs], default=str)[:4000]},
            )
        super().on_failure(exc, task_id, args, kwargs, einfo)


# --- reading dead-letter messages -----------------------------------------------------------


def _decode(body: str) -> Parked | None:
    """A parked task, or a raw Celery message SQS moved here after MAX_RECEIVE_COUNT receives."""
    try:
        data = json.loads(body)
    except ValueError:
        try:
            data = json.loads(base64.b64decode(body))  # kombu's SQS transport base64-encodes
        except (ValueError, TypeError):
            return None
    if isinstance(data, dict) and data.get("parked") == 1:
        return Parked(
            task=data["task"],
            args=data.get("args") or [],
            kwargs=data.get("kwargs") or {},
            dlq_message_id=data.get("dlqMessageId"),
            error=data.get("error"),
        )
    if isinstance(data, dict) and isinstance(data.get("headers"), dict) and "task" in data["headers"]:
        inner = data.get("body", "")
        if (data.get("properties") or {}).get("body_encoding") == "base64":
            inner = base64.b64decode(inner)
        try:
            args, kwargs, _embed = json.loads(inner)
        except (ValueError, TypeError):
            return None
        return Parked(
            task=data["headers"]["task"],
            args=args,
            kwargs=kwargs,
            error="redriven by SQS after repeated receives (worker lost?)",
        )
    return None


@dataclass
class ReplayReport:
    queue: str
    replayed: int = 0
    failed: int = 0
    refused: list[str] = field(default_factory=list)  # dlqMessageIds beyond MAX_REPLAYS
    duplicates: int = 0
    unreadable: int = 0

    def summary(self) -> str:
        parts = [
            f"{self.queue}: replayed {self.replayed}",
            f"failed again {self.failed} (back on the DLQ)",
            f"duplicates removed {self.duplicates}",
        ]
        if self.refused:
            parts.append(
                f"refused {len(self.refused)} after {MAX_REPLAYS} replays "
                f"(inspect them on the admin DLQ page: {', '.join(self.refused[:5])})"
            )
        if self.unreadable:
            parts.append(f"unreadable {self.unreadable} (left on the DLQ)")
        return "; ".join(parts)


def depth(dlq: str) -> int:
    attrs = aws.client("sqs").get_queue_attributes(
        QueueUrl=_url(dlq), AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))


def _record_for(parked: Parked, dlq: str) -> DLQMessage:
    if parked.dlq_message_id:
        try:
            return DLQMessage.get(parked.dlq_message_id, consistent_read=True)
        except DLQMessage.DoesNotExist:
            pass
    item = DLQMessage(
        dlqMessageId=parked.dlq_message_id or str(ULID()),
        originalMessageId=parked.original_id,
        queueName=dlq,
        retryCount=0,
        payload="",
        expiresAt=RETENTION,
    )
    parked.dlq_message_id = item.dlqMessageId
    item.payload = parked.body()
    return item


def _run(parked: Parked) -> None:
    task = current_app.tasks[parked.task]  # KeyError: a task that no longer exists fails the replay
    # Run in this process, through the same code the worker runs; mark the request so the
    # task's on_failure doesn't park a second copy while this replay already accounts for it.
    # retries=max_retries: a replay is one attempt; its own backoff loop would hold the replayer.
    task.apply(
        args=parked.args, kwargs=parked.kwargs, headers={"dlq_replay": True}, retries=task.max_retries or 0, throw=True
    )


def replay(dlq: str = "inbound-dlq", max_messages: int = 100) -> ReplayReport:
    """Replay up to ``max_messages`` from ``dlq`` through the same task code.

    Receive first, then replay, then release what stays: a message returned to the DLQ during
    this run is never picked up again by the same run.
    """
    if dlq not in DEAD_LETTER_QUEUES:
        raise UnknownQueue(f"unknown dead-letter queue {dlq!r}: use one of {', '.join(DEAD_LETTER_QUEUES)}")
    sqs = aws.client("sqs")
    url = _url(dlq)
    report = ReplayReport(queue=dlq)
    received: list[dict] = []
    while len(received) < max_messages:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, max_messages - len(received)),
            VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            break
        received.extend(batch)
    seen: set[str] = set()
    for message in received:
        if _replay_one(sqs, url, dlq, message, seen, report) == "keep":
            # Visible again at once, so the depth shown to people and the next replay see it.
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    log.info("dlq replay", extra={"queue": dlq, "summary": report.summary()})
    return report


def _replay_one(sqs, url: str, dlq: str, message: dict, seen: set[str], report: ReplayReport) -> str:
    """Replay one received message; returns "keep" when it stays on the DLQ, else "gone"."""
    parked = _decode(message["Body"])
    if parked is None:
        report.unreadable += 1
        log.error(
            "unreadable dead-letter message left in place",
            extra={"queue": dlq, "sqs_message_id": message.get("MessageId")},
        )
        return "keep"
    raw = parked.dlq_message_id is None  # moved here by the redrive policy, not parked by us
    item = _record_for(parked, dlq)
    if parked.original_id in seen:
        # The same work parked twice: one replay is enough; the copy goes.
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not raw:
            item.delete()
        report.duplicates += 1
        return "gone"
    seen.add(parked.original_id)
    if item.retryCount >= MAX_REPLAYS:
        report.refused.append(item.dlqMessageId)
        return _keep(sqs, url, message, parked, item, raw)
    item.lastAttemptAt = now()
    try:
        _run(parked)
    except Exception as exc:  # noqa: BLE001 - any failure of the task is recorded on the item and kept for another replay
        item.retryCount = (item.retryCount or 0) + 1
        parked.error = f"{type(exc).__name__}: {exc}"[:2000]
        report.failed += 1
        log.warning(
            "dlq replay failed",
            extra={
                "queue": dlq,
                "dlq_message_id": item.dlqMessageId,
                "retry_count": item.retryCount,
                "error": parked.error,
            },
        )
        return _keep(sqs, url, message, parked, item, raw)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    if not raw:
        item.delete()
    report.replayed += 1
    return "gone"


def _keep(sqs, url: str, message: dict, parked: Parked, item: DLQMessage, raw: bool) -> str:
    """Keep a message on the DLQ with its record; a raw redriven message is rewritten in our
    format once, so its record (and replay count) is found again next time."""
    item.payload = parked.body()
    item.save()
    if raw:
        sqs.send_message(QueueUrl=url, MessageBody=parked.body())
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return "gone"
    return "keep"


PAGE = 50


@dataclass
class RecordsPage:
    """A page of a queue's records, newest first, with the queue's whole count."""

    items: list[DLQMessage]
    total: int  # records of the queue (not only this page)
    next_before: str | None  # the dlqMessageId to page on from; None: the last page


def records_page(dlq: str, before: str | None = None, *, limit: int = PAGE) -> RecordsPage:
    """One page of a queue's records, newest first, older than ``before`` (a dlqMessageId, a ULID,
    so ids sort by when they were parked). The table holds at most 7 days of failures, so a page
    reads the queue's records and cuts its page from them."""
    everything = records(dlq)
    older = [item for item in everything if before is None or item.dlqMessageId < before]
    page = older[:limit]
    return RecordsPage(page, len(everything), page[-1].dlqMessageId if len(older) > limit else None)


def failure(item: DLQMessage) -> Parked | None:
    """What the record's payload says: the task, its arguments and the last error."""
    return _decode(item.payload) if item.payload else None


def requeue_records() -> int:
    """Put every record's message back on its queue; for a store that kept the records but not the
    queues (the local stack's snapshot). A message already there too is replayed once: the replay
    drops the duplicate. Returns how many were sent."""
    sqs = aws.client("sqs")
    sent = 0
    for item in records():
        if item.payload and item.queueName in DEAD_LETTER_QUEUES:
            sqs.send_message(QueueUrl=_url(item.queueName), MessageBody=item.payload)
            sent += 1
    return sent


def records(dlq: str | None = None) -> list[DLQMessage]:
    """DLQMessages items, newest first (a Scan: the table holds at most 7 days of failures)."""
    condition = not_expired(DLQMessage.expiresAt)
    if dlq is not None:
        condition &= DLQMessage.queueName == dlq
    items = list(DLQMessage.scan(filter_condition=condition))
    return sorted(items, key=lambda i: i.dlqMessageId, reverse=True)
