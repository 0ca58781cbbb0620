"""The per-recipient CSV report of a bulk job, in the report bucket.

One row per audience row, in order: recipient (phone or email), contactId, status, reason,
messageId, claimedAt, sentAt, finishedAt. Written by wecare.safe_csv: an audience CSV's cells are
whatever someone typed, and one starting with "=" must open as text. A recipient still
``sending`` when the report is written (a worker died, the sweep has not run yet) is reported
``unknown`` with the reason ``STILL_SENDING_WHEN_REPORTED`` — the provider call may or may not
have happened; ``unknown`` rows from the sweep carry ``WORKER_LOST``.
"""

from __future__ import annotations

import io

from django.conf import settings

from bulk.actions import get_job
from bulk.models import BulkJob
from wecare import safe_csv
from wecare.aws import client

COLUMNS = ("row", "recipient", "contactId", "status", "reason", "messageId", "claimedAt", "sentAt", "finishedAt")
URL_SECONDS = 15 * 60


def report_key(job_id: str) -> str:
    return f"{settings.REPORT_PREFIX}bulk/{job_id}.csv"


def _iso(value) -> str:
    return value.isoformat() if value else ""


def report_rows(job_id: str):
    from bulk.queries import all_recipients

    for r in all_recipients(job_id):
        status, reason = r.status, r.reason or ""
        if status in ("sending", "pending"):
            # Not final: a report written now says so rather than guessing.
            status, reason = ("unknown", "STILL_SENDING_WHEN_REPORTED") if status == "sending" else ("pending", reason)
        yield {
            "row": r.row or "",
            "recipient": r.address or "",
            "contactId": r.contactId or "",
            "status": status,
            "reason": reason,
            "messageId": r.messageId or "",
            "claimedAt": _iso(r.claimedAt),
            "sentAt": _iso(r.sentAt),
            "finishedAt": _iso(r.finishedAt),
        }


def write_report(job_id: str) -> str:
    """(Re)write the job's report; returns its S3 key. NotFound for an unknown job."""
    job = get_job(job_id)
    buffer = io.StringIO()
    writer = safe_csv.Writer(buffer)
    writer.writerow(COLUMNS)
    for row in report_rows(job_id):
        writer.writerow(row[column] for column in COLUMNS)
    key = report_key(job_id)
    client("s3").put_object(Bucket=settings.REPORT_BUCKET, Key=key, Body=buffer.getvalue().encode(), ContentType="text/csv; charset=utf-8")
    job.update(actions=[BulkJob.reportKey.set(key)])
    return key


def report_url(job: BulkJob) -> str | None:
    """A presigned download link (15 minutes), or None before the report exists."""
    if not job.reportKey:
        return None
    return client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.REPORT_BUCKET, "Key": job.reportKey, "ResponseContentDisposition": f'attachment; filename="bulk-{job.jobId}.csv"'},
        ExpiresIn=URL_SECONDS,
    )
