"""Counting a chunk into its job, exactly once however often the chunk runs, and ending the job
when every recipient is final. docs/design/bulk-sending.md says how the tally makes that exact."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from bulk.models import FINAL_RECIPIENT_STATUSES, BulkChunk, BulkJob
from bulk.queries import chunk_recipients, find_job
from bulk.reports import write_report
from wecare.dynamo import now, transaction, update_if
from wecare.metrics import emit

log = logging.getLogger("bulk.counting")

# A recipient's final status -> the job's counter of it.
COUNTERS = {
    "sent": "sentCount",
    "failed": "failedCount",
    "skipped": "skippedCount",
    "cancelled": "cancelledCount",
    "unknown": "unknownCount",
}


def reconcile_chunk(job_id: str, chunk_id: str, *, attempts: int = 10) -> dict[str, int]:
    """Add the chunk's not-yet-counted final states to the job's counters (once, exactly)."""
    for _ in range(attempts):
        chunk = BulkChunk.get(job_id, chunk_id, consistent_read=True)
        recipients = chunk_recipients(job_id, chunk, only=["status"])
        tally = Counter(r.status for r in recipients if r.status in FINAL_RECIPIENT_STATUSES)
        previous = chunk.tally or {}
        delta = {
            name: tally[name] - int(previous.get(name, 0))
            for name in COUNTERS
            if tally[name] != int(previous.get(name, 0))
        }
        if not delta:
            return {}
        version = int(chunk.tallyVersion or 0)
        job = BulkJob(jobId=job_id)
        try:
            with transaction() as tx:
                tx.update(
                    chunk,
                    actions=[BulkChunk.tally.set(dict(tally)), BulkChunk.tallyVersion.set(version + 1)],
                    condition=(BulkChunk.tallyVersion == version) | BulkChunk.tallyVersion.does_not_exist(),
                    label="chunk",
                )
                tx.update(
                    job,
                    actions=[
                        *(getattr(BulkJob, COUNTERS[name]).add(n) for name, n in delta.items()),
                        BulkJob.updatedAt.set(now()),
                    ],
                    condition=BulkJob.jobId.exists(),
                    label="job",
                )
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                continue  # another run counted this chunk meanwhile: look again
            raise
        return delta
    raise RuntimeError(f"could not count chunk {chunk_id} of job {job_id} after {attempts} attempts")


def finish_if_done(job_id: str) -> bool:
    """End the job when every recipient is final: exactly one caller wins the conditional update
    and emits the job's metrics; the report is written by whoever finds it missing."""
    for _ in range(3):
        job = find_job(job_id)
        if job is None or job.finished_count < int(job.totalRecipients):
            return False
        if job.completedAt is not None:
            break
        at = now()
        target = "cancelled" if job.status == "cancelled" else "completed"
        if not update_if(
            job,
            actions=[BulkJob.status.set(target), BulkJob.completedAt.set(at), BulkJob.updatedAt.set(at)],
            condition=BulkJob.completedAt.does_not_exist() & (BulkJob.status == job.status),
        ):
            continue  # someone changed the status (a cancel) or finished it: look again
        _emit_job_metrics(job, at)
        log.info("bulk job finished", extra={"job_id": job_id, "status": target, "sent": int(job.sentCount)})
        break
    else:
        return False
    if not job.reportKey:
        write_report(job_id)
    return True


def _emit_job_metrics(job: BulkJob, at: datetime) -> None:
    started = job.startedAt or job.createdAt
    seconds = max(0.0, (at - started).total_seconds())
    emit("BulkJobDuration", round(seconds, 3), "Seconds", channel=job.channel)
    if seconds > 0:
        emit("BulkJobThroughput", round(int(job.sentCount) / seconds, 2), "Count/Second", channel=job.channel)
