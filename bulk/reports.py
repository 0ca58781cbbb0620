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
from typing import IO

from django.conf import settings
from django.http import FileResponse

from bulk.models import BulkJob
from bulk.queries import all_recipients, get_job
from wecare import safe_csv
from wecare.aws import client

COLUMNS = ("row", "recipient", "contactId", "status", "reason", "messageId", "claimedAt", "sentAt", "finishedAt")


def report_key(job_id: str) -> str:
    return f"{settings.REPORT_PREFIX}bulk/{job_id}.csv"


def _iso(value) -> str:
    return value.isoformat() if value else ""


def report_rows(job_id: str):
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
    client("s3").put_object(
        Bucket=settings.REPORT_BUCKET, Key=key, Body=buffer.getvalue().encode(), ContentType="text/csv; charset=utf-8"
    )
    job.update(actions=[BulkJob.reportKey.set(key)])
    return key


def open_report(job: BulkJob) -> IO[bytes]:
    """The stored report, to stream through the app (never a presigned link: that would work
    for anyone holding it, past the role check). The job must have a reportKey."""
    return client("s3").get_object(Bucket=settings.REPORT_BUCKET, Key=job.reportKey)["Body"]


def report_download(job: BulkJob) -> FileResponse:
    """The report as a CSV download, the same for the page and the API. The job must have a
    reportKey."""
    return FileResponse(
        open_report(job), as_attachment=True, filename=f"bulk-{job.jobId}.csv", content_type="text/csv; charset=utf-8"
    )
