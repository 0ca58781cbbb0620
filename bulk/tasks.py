"""Bulk Celery tasks: one chunk of a job, and the periodic sweep of recipients stuck in sending."""

from __future__ import annotations

from celery import shared_task

from bulk import worker
from wecare.dlq import DeadLetterTask


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
