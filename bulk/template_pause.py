"""Pausing the jobs that send a template WhatsApp made unusable (paused, disabled, rejected…), with
the reason shown on the job page, so the rest of the audience is not spent on sends WhatsApp
refuses. Listens to messaging's ``template_unusable`` signal (bulk/apps.py). The design:
docs/design/account-health.md.
"""

from __future__ import annotations

import logging
from typing import Any

from bulk.models import BulkJob
from messaging.channels import Channel
from wecare import audit
from wecare.dynamo import now, update_if

log = logging.getLogger("bulk.template_pause")

PAUSABLE = ("pending", "running")


def on_template_unusable(*, name: str, language: str, status: str, reason: str, **_: Any) -> list[str]:
    """Pause every unfinished job that sends ``name`` in ``language``; returns the ids paused now.
    Idempotent: a job already paused (or finished) is left as it is."""
    paused = []
    # A Scan of the unfinished jobs, as the stuck sweep does: a template's status changes rarely.
    for job in BulkJob.scan(filter_condition=BulkJob.completedAt.does_not_exist() & BulkJob.status.is_in(*PAUSABLE)):
        if not _uses(job, name, language):
            continue
        if update_if(
            job,
            actions=[BulkJob.status.set("paused"), BulkJob.pausedReason.set(reason), BulkJob.updatedAt.set(now())],
            condition=BulkJob.status.is_in(*PAUSABLE) & BulkJob.completedAt.does_not_exist(),
        ):
            audit.record(None, "bulk.pause", "bulkjob", job.jobId, status="paused", reason=reason, template=status)
            log.warning("bulk job paused: its template is unusable", extra={"job_id": job.jobId, "template": name})
            paused.append(job.jobId)
    return paused


def _uses(job: BulkJob, name: str, language: str) -> bool:
    template = (job.messageSpec or {}).get("template") or {}
    return (
        job.channel == Channel.WHATSAPP
        and isinstance(template, dict)
        and template.get("name") == name
        and template.get("language") == language
    )
