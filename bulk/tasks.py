"""Bulk's Celery tasks, gathered for autodiscovery; each is defined beside the work it runs.
Queues are in settings.CELERY_TASK_ROUTES (all on bulk-queue)."""

from bulk.preparation import prepare_job
from bulk.sending import send_chunk
from bulk.sweep import sweep_stuck_task

__all__ = ["prepare_job", "send_chunk", "sweep_stuck_task"]
