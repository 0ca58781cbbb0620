"""Reading bulk jobs: the list, one job, its recipients, and its progress.

The job list is a paged Scan of BulkJobs (one item per campaign: hundreds a year, not millions),
each page sorted newest first by its ULID; a table with many thousands of jobs would want a
createdAt index instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bulk.actions import get_job
from bulk.models import RECIPIENT_PREFIX, BulkJob, BulkRecipient
from wecare.dynamo import Cursor, now

PAGE_SIZE = 50


@dataclass
class Page:
    items: list
    next_cursor: str | None


def list_jobs(cursor: str | None = None, *, limit: int = PAGE_SIZE) -> Page:
    results = BulkJob.scan(limit=limit, last_evaluated_key=Cursor.decode(cursor, scope="bulk-jobs"), consistent_read=True)
    items = sorted(results, key=lambda job: job.jobId, reverse=True)
    return Page(items, Cursor.encode(results.last_evaluated_key, scope="bulk-jobs"))


def recipients(job_id: str, cursor: str | None = None, *, limit: int = 100) -> Page:
    get_job(job_id)  # 404 for an unknown job
    results = BulkRecipient.query(
        job_id,
        BulkRecipient.recipientId.startswith(RECIPIENT_PREFIX),
        limit=limit,
        last_evaluated_key=Cursor.decode(cursor, scope=f"bulk-recipients:{job_id}"),
        consistent_read=True,
    )
    items = list(results)
    return Page(items, Cursor.encode(results.last_evaluated_key, scope=f"bulk-recipients:{job_id}") if len(items) == limit else None)


def all_recipients(job_id: str):
    """Every recipient of the job, in audience order (for reports and sweeps)."""
    return BulkRecipient.query(job_id, BulkRecipient.recipientId.startswith(RECIPIENT_PREFIX), consistent_read=True, page_size=500)


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


__all__ = ["Page", "Progress", "all_recipients", "get_job", "list_jobs", "progress", "recipients"]
