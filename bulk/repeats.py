"""The same content to the same people again: a job whose message (the same template, or the same
text and subject) went out in another job of the last BULK_REPEAT_WARNING_HOURS to some of the same
recipients is a repeat. The preview names it and the start refuses it unless the operator confirms.
Why and how it is found: docs/design/bulk-sending.md ("Sending the same thing twice").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from bulk.models import PLAN_PREFIX, RECIPIENT_PREFIX, BulkJob, BulkPlan, BulkRecipient

# A recipient of the earlier job who got it or still will: a cancelled or refused one did not.
REACHED = ("pending", "sending", "sent", "unknown")


@dataclass(frozen=True)
class Repeat:
    job_id: str
    title: str
    created_at: datetime
    overlap: int  # recipients of this job the earlier job reached (or will)


def content_key(channel: str, spec: dict[str, Any]) -> str:
    """What the message says, whatever the recipients' own template values: a template by its name
    and language, anything else by its text, subject and media."""
    template = spec.get("template")
    if template:
        basis: list[Any] = ["template", template.get("name"), template.get("language")]
    else:
        media = spec.get("media") or {}
        basis = ["text", spec.get("subject") or "", spec.get("text") or "", media.get("s3Key") or ""]
    digest = hashlib.sha256(json.dumps([channel, *basis], ensure_ascii=False).encode()).hexdigest()
    return digest[:32]


def find(key: str, contact_ids: Iterable[str], *, at: datetime) -> list[Repeat]:
    """Earlier jobs of the window with this content that reached some of ``contact_ids``, newest first.
    Reads the jobs of the window with this key (one Query of ``BulkJob.by_content``) and only
    those jobs' recipients."""
    hours = settings.BULK_REPEAT_WARNING_HOURS
    wanted = set(contact_ids)
    if hours == 0 or not wanted:
        return []
    since = at - timedelta(hours=hours)
    # One Query of the content index (eventually consistent, as every GSI read is: a job started
    # this very second may be missed; the start's own idempotency key covers a retried start).
    earlier = BulkJob.by_content.query(key, BulkJob.createdAt >= since)
    repeats = []
    for job in earlier:
        overlap = sum(1 for contact_id in _reached(job) if contact_id in wanted)
        if overlap:
            repeats.append(Repeat(job.jobId, job.title, job.createdAt, overlap))
    return sorted(repeats, key=lambda r: r.created_at, reverse=True)


def _reached(job: BulkJob) -> Iterable[str]:
    """The contacts the job reached or will reach. From its plan (about a thousand rows an item,
    written before the job, so a job still preparing counts too), except for a cancelled job,
    whose recipients say who was reached before the cancel."""
    if job.status == "cancelled":
        recipients = BulkRecipient.query(
            job.jobId,
            BulkRecipient.recipientId.startswith(RECIPIENT_PREFIX),
            attributes_to_get=["jobId", "recipientId", "contactId", "status"],
            consistent_read=True,
            page_size=1000,
        )
        return (r.contactId for r in recipients if r.contactId and r.status in REACHED)
    plan = BulkPlan.query(job.jobId, BulkPlan.recipientId.startswith(PLAN_PREFIX), consistent_read=True)
    # A plan row: [row, contactId, address, parameters, refusal reason]; refused rows never go.
    return (row[1] for item in plan for row in item.rows if row[1] and not row[4])
