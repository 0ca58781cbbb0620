"""A started job's plan -> its recipients and chunks, in the background (``bulk.prepare_job``).

``start_job`` answers the HTTP request after writing the job and its plan (the confirmed audience
rows, a few items); writing 10,000 recipients there took minutes (bench/README.md). This runs as a
``DeadLetterTask``, so it may run again after a failure, a redelivery or a DLQ replay, even while
an earlier run is still going. Every write is therefore harmless to repeat:

* recipient ids and chunk ids follow from the plan (``r#000001``…, ``chunk#00000``…);
* recipients refused at preview are final from the start and never claimed by a worker, so
  writing them again (BatchWriteItem) writes the same item;
* a chunk's sendable recipients are created in TransactWriteItems of ``TRANSACTION_ITEMS``, each
  put conditional on the recipient not existing: a worker may already have claimed it, and a
  plain put would set it back to ``pending`` and send it twice. A cancelled transaction means an
  earlier run wrote that group (a transaction is all or nothing);
* the chunk item is put only if absent (it carries the tally the job's counters were given);
* progress (``preparedRecipients``) only ever goes up; ``preparedAt`` is set once;
* chunks are queued after all of that; a chunk queued twice sends nothing twice (the worker
  claims each recipient), and a finished job's chunks are not queued again.

Pause and cancel during preparation are ordinary status changes: the chunks are still written and
queued, and the worker honours the status (a cancelled job's recipients become ``cancelled``, so
the report accounts for every row).
"""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

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
from wecare.dynamo import now, transaction

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


def _recipient(job: BulkJob, index: int, row: list, chunk: str | None) -> BulkRecipient:
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
    )


def _create_new(recipients: list[BulkRecipient]) -> int:
    """Create the recipients that do not exist yet; returns how many groups were new."""
    created = 0
    for start in range(0, len(recipients), TRANSACTION_ITEMS):
        try:
            with transaction() as tx:
                for recipient in recipients[start : start + TRANSACTION_ITEMS]:
                    tx.save(recipient, condition=BulkRecipient.recipientId.does_not_exist(), label=recipient.recipientId)
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            continue  # an earlier run created this group (all of it: a transaction is atomic)
        created += 1
    return created


def _create_chunk(job_id: str, chunk_id: str, recipient_ids: list[str]) -> None:
    try:
        BulkChunk(jobId=job_id, recipientId=chunk_id, recipientIds=recipient_ids).save(condition=BulkChunk.recipientId.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # otherwise an earlier run wrote it, and its tally may have moved on since


def _progress(job_id: str, written: int, *, done: bool = False) -> None:
    actions = [BulkJob.preparedRecipients.set(written), BulkJob.updatedAt.set(now())]
    condition = BulkJob.preparedRecipients.does_not_exist() | (BulkJob.preparedRecipients < written)
    if done:
        actions.append(BulkJob.preparedAt.set(now()))
        condition = BulkJob.preparedAt.does_not_exist()
    try:
        BulkJob(jobId=job_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # otherwise a concurrent run got further: progress never goes back


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
        members = [_recipient(job, index, row, chunk_id) for index, row in sendable[start : start + CHUNK_SIZE]]
        _create_new(members)
        _create_chunk(job_id, chunk_id, [r.recipientId for r in members])  # after the recipients it names
        chunk_ids.append(chunk_id)
        written += len(members)
        _progress(job_id, written)
    _progress(job_id, written, done=True)
    job.refresh(consistent_read=True)
    if job.completedAt is not None:
        return {"state": "finished", "recipients": written, "chunks": len(chunk_ids)}  # a late replay: nothing left to send
    from bulk.tasks import send_chunk

    for chunk_id in chunk_ids:  # after the writes they depend on
        send_chunk.apply_async(args=[job_id, chunk_id], queue="bulk-queue")
    log.info("bulk job prepared", extra={"job_id": job_id, "recipients": written, "chunks": len(chunk_ids)})
    return {"state": "prepared", "recipients": written, "chunks": len(chunk_ids)}


__all__ = ["CHUNK_SIZE", "TRANSACTION_ITEMS", "plan_rows", "prepare"]
