"""The worker heartbeat: beat queues one a minute on each worker service's queue, and the worker
that runs it writes the EMF metric ``WorkerHeartbeat`` (dimension ``service``). CloudWatch alarms
when a service writes none for five minutes (docs/design/operations.md, "Infrastructure")."""

from __future__ import annotations

from celery import shared_task

from wecare.metrics import emit
from wecare.queues import WORKER_SERVICES


@shared_task(name="wecare.heartbeat", ignore_result=True)
def heartbeat(service: str) -> str:
    """Say that a worker of ``service`` took a task from its queue just now."""
    if service not in WORKER_SERVICES:  # a schedule from an older release: say nothing false
        return "unknown"
    emit("WorkerHeartbeat", service=service)
    return service
