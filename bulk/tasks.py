"""Bulk Celery tasks: preparing a started job, one chunk of a job, and the periodic sweep of
recipients stuck in sending. Queues are in settings.CELERY_TASK_ROUTES (all on bulk-queue)."""

from __future__ import annotations

from celery import shared_task

from bulk import preparation, worker
from wecare.dlq import DeadLetterTask


@shared_task(base=DeadLetterTask, name="bulk.prepare_job")
def prepare_job(job_id: str) -> dict:
    # Idempotent (bulk/preparation.py): deterministic ids, conditional creates, progress that
    # only goes up, so a retry, a redelivery or a replay adds no recipient and no chunk twice.
    return preparation.prepare(job_id)


@shared_task(base=DeadLetterTask, name="bulk.send_chunk")
def send_chunk(job_id: str, chunk_id: str) -> dict:
    # Idempotent, as DeadLetterTask's retries and replays need: each recipient is claimed
    # pending -> sending before its provider call, so a chunk run again sends nothing twice, and
    # the chunk is counted into the job by difference (bulk/worker.py). A paused job's chunk
    # returns at once; resume queues the job's unfinished chunks again.
    return worker.run_chunk(job_id, chunk_id)


@shared_task(base=DeadLetterTask, name="bulk.sweep_stuck")
def sweep_stuck() -> dict:
    return worker.sweep_stuck()
