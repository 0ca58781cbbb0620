"""A started job's plan -> its recipients and chunks, in the background (the ``bulk.prepare_job``
task, defined here), then the chunks queued. Every write is harmless to repeat, as a task that may
run again needs: docs/design/bulk-sending.md says how."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from pynamodb.exceptions import PutError, TransactWriteError

from bulk.batching import write_all
from bulk.models import (
    PLAN_PREFIX,
    BulkChunk,
    BulkJob,
    BulkPlan,
    BulkRecipient,
    chunk_key,
    recipient_key,
)
from bulk.sending import send_chunk
from wecare.dlq import DeadLetterTask
from wecare.dynamo import now, transaction, update_if

log = logging.getLogger("bulk.preparation")

CHUNK_SIZE = 100
# DynamoDB takes 100 items per TransactWriteItems; moto 5.x (the local stack) only 25.
TRANSACTION_ITEMS = 25


def plan_rows(job_id: str) -> list[tuple[int, list]]:
    """(recipient index, [row, contactId, address, parameters, reason]) in audience order."""
    rows: list[tuple[int, list]] = []
    for page in BulkPlan.query(job_id, BulkPlan.recipientId.startswith(PLAN_PREFIX), consistent_read=True):
        rows.extend((int(page.first) + offset, row) for offset, row in enumerate(page.rows))
    return rows


def _recipient(job: BulkJob, index: int, row: list, chunk: str | None, sender: str | None = None) -> BulkRecipient:
    number, contact_id, address, parameters, reason = row
    return BulkRecipient(
        jobId=job.jobId,
        recipientId=recipient_key(index),
        row=number,
        contactId=contact_id,
        address=address or None,
        parameters=parameters,
        status="skipped" if reason else "pending",
        reason=reason,
        finishedAt=job.createdAt if reason else None,  # the job's start: the same on every run
        chunk=chunk,
        sender=sender,
    )


def _sender_of(job: BulkJob, position: int) -> str | None:
    """A campaign on several numbers: the sendable recipients take them in turn, so every chunk
    sends from all of them at once, each at its own rate limit. None: the job's one sender."""
    return job.senders[position % len(job.senders)] if job.senders else None


def _create_new(recipients: list[BulkRecipient]) -> int:
    """Create the recipients that do not exist yet; returns how many groups were new."""
    created = 0
    for start in range(0, len(recipients), TRANSACTION_ITEMS):
        try:
            with transaction() as tx:
                for recipient in recipients[start : start + TRANSACTION_ITEMS]:
                    tx.save(
                        recipient, condition=BulkRecipient.recipientId.does_not_exist(), label=recipient.recipientId
                    )
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            continue  # an earlier run created this group (all of it: a transaction is atomic)
        created += 1
    return created


def _create_chunk(job_id: str, chunk_id: str, recipient_ids: list[str]) -> None:
    try:
        BulkChunk(jobId=job_id, recipientId=chunk_id, recipientIds=recipient_ids).save(
            condition=BulkChunk.recipientId.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # otherwise an earlier run wrote it, and its tally may have moved on since


def _progress(job_id: str, written: int, *, done: bool = False) -> None:
    actions = [BulkJob.preparedRecipients.set(written), BulkJob.updatedAt.set(now())]
    condition = BulkJob.preparedRecipients.does_not_exist() | (BulkJob.preparedRecipients < written)
    if done:
        actions.append(BulkJob.preparedAt.set(now()))
        condition = BulkJob.preparedAt.does_not_exist()
    # Not written when a concurrent run got further: progress never goes back.
    update_if(BulkJob(jobId=job_id), actions=actions, condition=condition)


def prepare(job_id: str) -> dict[str, Any]:
    """Write the job's recipients and chunks from its plan and queue the chunks. Safe to run any
    number of times, also concurrently."""
    try:
        job = BulkJob.get(job_id, consistent_read=True)
    except BulkJob.DoesNotExist:
        log.error("prepare for a job that does not exist", extra={"job_id": job_id})
        return {"state": "missing"}
    rows = plan_rows(job_id)
    refused = [_recipient(job, index, row, None) for index, row in rows if row[4]]
    sendable = [(index, row) for index, row in rows if not row[4]]
    write_all(refused)
    written = len(refused)
    _progress(job_id, written)
    chunk_ids: list[str] = []
    for number, start in enumerate(range(0, len(sendable), CHUNK_SIZE)):
        chunk_id = chunk_key(number)
        members = [
            _recipient(job, index, row, chunk_id, _sender_of(job, start + k))
            for k, (index, row) in enumerate(sendable[start : start + CHUNK_SIZE])
        ]
        _create_new(members)
        _create_chunk(job_id, chunk_id, [r.recipientId for r in members])  # after the recipients it names
        chunk_ids.append(chunk_id)
        written += len(members)
        _progress(job_id, written)
    _progress(job_id, written, done=True)
    job.refresh(consistent_read=True)
    if job.completedAt is not None:
        return {
            "state": "finished",
            "recipients": written,
            "chunks": len(chunk_ids),
        }  # a late replay: nothing left to send
    for chunk_id in chunk_ids:  # after the writes they depend on
        send_chunk.apply_async(args=[job_id, chunk_id], queue="bulk-queue")
    log.info("bulk job prepared", extra={"job_id": job_id, "recipients": written, "chunks": len(chunk_ids)})
    return {"state": "prepared", "recipients": written, "chunks": len(chunk_ids)}


@shared_task(base=DeadLetterTask, name="bulk.prepare_job")
def prepare_job(job_id: str) -> dict:
    # Idempotent (see prepare): deterministic ids, conditional creates, progress that only goes
    # up, so a retry, a redelivery or a replay adds no recipient and no chunk twice.
    return prepare(job_id)


__all__ = ["CHUNK_SIZE", "TRANSACTION_ITEMS", "plan_rows", "prepare", "prepare_job"]
