"""The periodic repair of what a dead bulk worker left behind (the ``bulk.sweep_stuck`` task, run
by beat): recipients stuck ``sending`` become ``unknown``, never sent again, and chunks recorded
but not counted are counted. docs/design/bulk-sending.md says why ``unknown`` and not a resend.
Each sweep also writes the EMF metric ``BulkJobsStalled`` (running jobs with no progress in ten
minutes), which the stalled-job alarm watches (docs/design/operations.md)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from bulk.counting import finish_if_done, reconcile_chunk
from bulk.models import FINAL_RECIPIENT_STATUSES, BulkJob, BulkRecipient
from bulk.queries import all_recipients, chunks
from wecare.dlq import DeadLetterTask
from wecare.dynamo import now, update_if
from wecare.metrics import emit

log = logging.getLogger("bulk.sweep")

# A running job whose counters have not moved for this long has stopped (its chunks are lost or
# parked, or no worker takes them): every chunk a worker finishes moves the job's updatedAt.
STALLED_AFTER = timedelta(minutes=10)


def sweep_stuck(older_than: timedelta | None = None) -> dict[str, int]:
    """The periodic repair of what a dead worker left behind, per job not yet completed:

    - recipients left ``sending`` longer than ``older_than`` (a worker died between the claim and
      the record) become ``unknown``: the provider call may or may not have happened, so they are
      never sent again; the report says so;
    - chunks whose recipients are final but not yet counted into the job (a worker died between
      recording a chunk's outcomes and ``reconcile_chunk``, and SQS has not redelivered the chunk
      yet, or the chunk was parked) are counted, so the job can complete.

    Returns {job id: recipients marked unknown}."""
    cutoff = now() - (older_than if older_than is not None else timedelta(minutes=settings.BULK_STUCK_SENDING_MINUTES))
    stalled_since = now() - STALLED_AFTER
    resolved: dict[str, int] = {}
    stalled: list[str] = []
    for job in BulkJob.scan(filter_condition=BulkJob.completedAt.does_not_exist()):
        if job.status == "running" and job.updatedAt <= stalled_since:
            stalled.append(job.jobId)
        final_per_chunk: Counter[str] = Counter()
        count = 0
        for recipient in all_recipients(job.jobId):
            if (
                recipient.status == "sending"
                and recipient.claimedAt is not None
                and recipient.claimedAt <= cutoff
                and _mark_unknown(recipient)
            ):
                count += 1
                recipient.status = "unknown"
            if recipient.chunk and recipient.status in FINAL_RECIPIENT_STATUSES:
                final_per_chunk[recipient.chunk] += 1
        for chunk in chunks(job.jobId):
            if sum(int(n) for n in (chunk.tally or {}).values()) != final_per_chunk[chunk.recipientId]:
                reconcile_chunk(job.jobId, chunk.recipientId)
        if count:
            log.warning("bulk recipients stuck in sending marked unknown", extra={"job_id": job.jobId, "count": count})
            resolved[job.jobId] = count
        finish_if_done(job.jobId)
    if stalled:
        log.warning(
            "bulk jobs running with no progress", extra={"job_ids": stalled, "minutes": STALLED_AFTER.seconds // 60}
        )
    emit("BulkJobsStalled", len(stalled))  # 0 too: the alarm then sees the sweep ran
    return resolved


def _mark_unknown(recipient: BulkRecipient) -> bool:
    """sending -> unknown, unless its worker recorded it meanwhile (or it was claimed again)."""
    return update_if(
        recipient,
        actions=[
            BulkRecipient.status.set("unknown"),
            BulkRecipient.reason.set("WORKER_LOST"),
            BulkRecipient.finishedAt.set(now()),
        ],
        condition=(BulkRecipient.status == "sending") & (BulkRecipient.claimedAt == recipient.claimedAt),
    )


@shared_task(base=DeadLetterTask, name="bulk.sweep_stuck")
def sweep_stuck_task() -> dict:
    return sweep_stuck()
