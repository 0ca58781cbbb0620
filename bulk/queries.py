"""Reading bulk jobs: the list, one job, its recipients and chunks, and its progress.

The job list is a paged Scan of BulkJobs (one item per campaign: hundreds a year, not millions),
each page sorted newest first by its ULID; a table with many thousands of jobs would want a
createdAt index instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bulk.models import CHUNK_PREFIX, RECIPIENT_PREFIX, BulkChunk, BulkJob, BulkRecipient
from wecare.dynamo import Cursor, Page, now
from wecare.errors import NotFound

PAGE_SIZE = 50


def find_job(job_id: str) -> BulkJob | None:
    """The job as it is now, or None: for workers, to which a missing job is not an error."""
    try:
        return BulkJob.get(job_id, consistent_read=True)
    except BulkJob.DoesNotExist:
        return None


def get_job(job_id: str) -> BulkJob:
    """The job as it is now; NotFound (404) for an unknown id."""
    job = find_job(job_id)
    if job is None:
        raise NotFound(f"no bulk job with id {job_id}")
    return job


def list_jobs(cursor: str | None = None, *, limit: int = PAGE_SIZE) -> Page[BulkJob]:
    results = BulkJob.scan(
        limit=limit, last_evaluated_key=Cursor.decode(cursor, scope="bulk-jobs"), consistent_read=True
    )
    items = sorted(results, key=lambda job: job.jobId, reverse=True)
    return Page(items, Cursor.encode(results.last_evaluated_key, scope="bulk-jobs"))


def recipients(job_id: str, cursor: str | None = None, *, limit: int = 100) -> Page[BulkRecipient]:
    get_job(job_id)  # 404 for an unknown job
    results = BulkRecipient.query(
        job_id,
        BulkRecipient.recipientId.startswith(RECIPIENT_PREFIX),
        limit=limit,
        last_evaluated_key=Cursor.decode(cursor, scope=f"bulk-recipients:{job_id}"),
        consistent_read=True,
    )
    items = list(results)
    return Page(
        items,
        Cursor.encode(results.last_evaluated_key, scope=f"bulk-recipients:{job_id}") if len(items) == limit else None,
    )


def all_recipients(job_id: str) -> Iterable[BulkRecipient]:
    """Every recipient of the job, in audience order (for reports and sweeps)."""
    return BulkRecipient.query(
        job_id, BulkRecipient.recipientId.startswith(RECIPIENT_PREFIX), consistent_read=True, page_size=500
    )


def in_flight(job_id: str) -> int:
    """Recipients claimed and not yet recorded (``sending``): after a pause or cancel these still go
    out. Reads the job's partition (keys and status only), so only pages of a paused or cancelled
    job ask it."""
    results = BulkRecipient.query(
        job_id,
        BulkRecipient.recipientId.startswith(RECIPIENT_PREFIX),
        filter_condition=BulkRecipient.status == "sending",
        attributes_to_get=["jobId", "recipientId", "status"],
        consistent_read=True,
        page_size=1000,
    )
    return sum(1 for _ in results)


def chunk_recipients(job_id: str, chunk: BulkChunk, *, only: Sequence[str] | None = None) -> list[BulkRecipient]:
    """The chunk's recipients as they are now (one BatchGetItem), in the chunk's order. ``only``
    names the attributes to read besides the key (the others are left unset), for a reader that
    needs only those: reading and converting whole items is most of the read's CPU."""
    attributes = ["jobId", "recipientId", *only] if only is not None else None
    found = {
        r.recipientId: r
        for r in BulkRecipient.batch_get(
            [(job_id, rid) for rid in chunk.recipientIds], consistent_read=True, attributes_to_get=attributes
        )
    }
    return [found[rid] for rid in chunk.recipientIds if rid in found]


def chunks(job_id: str) -> Iterable[BulkChunk]:
    """Every chunk item of the job, in order."""
    return BulkChunk.query(job_id, BulkChunk.recipientId.startswith(CHUNK_PREFIX), consistent_read=True)


def unfinished_chunks(job_id: str) -> list[str]:
    """The job's chunks with recipients not yet counted final (by their last tally)."""
    return [
        c.recipientId for c in chunks(job_id) if sum(int(n) for n in (c.tally or {}).values()) < len(c.recipientIds)
    ]


@dataclass
class Progress:
    total: int
    sent: int
    failed: int
    skipped: int
    cancelled: int
    unknown: int
    pending: int  # not final yet: waiting, or being sent right now
    percent: int
    per_second: float  # sent per second since the first chunk started (0 before)
    status: str
    report_ready: bool


def progress(job: BulkJob, *, at: datetime | None = None) -> Progress:
    """From the job's counters alone: no read of the recipients, so a page can poll it."""
    done = job.finished_count
    total = int(job.totalRecipients)
    per_second = 0.0
    if job.startedAt:
        end = job.completedAt or at or now()
        elapsed = (end - job.startedAt).total_seconds()
        per_second = round(int(job.sentCount) / elapsed, 1) if elapsed > 0 else 0.0
    return Progress(
        total=total,
        sent=int(job.sentCount),
        failed=int(job.failedCount),
        skipped=int(job.skippedCount),
        cancelled=int(job.cancelledCount),
        unknown=int(job.unknownCount),
        pending=max(0, total - done),
        percent=int(100 * done / total) if total else 100,
        per_second=per_second,
        status=job.status,
        report_ready=bool(job.reportKey),
    )


__all__ = [
    "Progress",
    "all_recipients",
    "chunk_recipients",
    "chunks",
    "find_job",
    "get_job",
    "in_flight",
    "list_jobs",
    "progress",
    "recipients",
    "unfinished_chunks",
]
