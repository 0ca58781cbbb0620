"""Bulk throughput on the dashboard: messages sent per minute by the recent jobs, from the jobs'
own counts and times (the BulkJobs table is one item per job; no recipient is read). Registered
with the dashboard in ``BulkConfig.ready()`` (docs/design/operations.md, "Dashboard").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bulk.models import BulkJob
from messaging.dashboard.sections import Number, Section, register
from wecare.dynamo import now

RECENT_JOBS = 10
SINCE = timedelta(days=14)


def _minutes(job: BulkJob, at: datetime) -> float | None:
    if job.startedAt is None:
        return None
    end = job.completedAt or (at if job.status == "running" else job.updatedAt)
    return max((end - job.startedAt).total_seconds() / 60, 1 / 60)  # a job that took under a second


def section(at: datetime | None = None) -> Section:
    """The section as of ``at`` (now by default; a test picks its own moment, so the jobs other
    tests start meanwhile are not among the recent ones)."""
    at = at or now()
    started = [
        job
        for job in BulkJob.scan((BulkJob.startedAt >= at - SINCE) & (BulkJob.startedAt <= at))
        if job.startedAt is not None
    ]
    started.sort(key=lambda job: job.startedAt, reverse=True)
    rows: list[tuple[str, Sequence[Number]]] = []
    for job in reversed(started[:RECENT_JOBS]):  # oldest first, as the other charts run
        minutes = _minutes(job, at)
        sent = int(job.sentCount or 0)
        rows.append(
            (
                f"{job.name or job.jobId[-6:]} ({job.startedAt:%d %b %H:%M})",
                [sent, round(minutes, 1) if minutes else None, round(sent / minutes, 1) if minutes else None],
            )
        )
    return Section(
        key="bulk",
        title="Bulk throughput",
        note=f"Messages sent per minute by the last {RECENT_JOBS} jobs started in {SINCE.days} days, start to finish.",
        columns=("Job (started, UTC)", "Sent", "Minutes", "Per minute"),
        rows=rows,
        charted=(3,),
        empty="No bulk job has started in that time.",
    )


def connect() -> None:
    register("bulk", section)
