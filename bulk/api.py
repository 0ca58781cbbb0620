"""/api/bulk: preview a campaign, start it (confirming the previewed count above the
threshold), list and watch jobs, pause / resume / cancel, the recipients and the report link."""

from __future__ import annotations

from django.urls import reverse
from ninja import Query, Router, Status
from ninja.decorators import decorate_view

from bulk import actions, queries, reports
from bulk.audience import AudienceSpec
from bulk.schemas import ControlIn, JobIn, JobOut, JobPage, PreviewIn, PreviewOut, RecipientOut, RecipientPage
from wecare.api_auth import OPERATOR, VIEWER
from wecare.bodylimits import BULK_BODY_LIMIT, allow_body_up_to
from wecare.errors import NotFound
from wecare.http import AuthedRequest

router = Router(tags=["bulk"])

ERRORS = {401: dict, 403: dict, 422: dict}


def _audience(payload: PreviewIn) -> AudienceSpec:
    return AudienceSpec.from_dict(payload.audience.model_dump(exclude_none=True))


@router.post(
    "/jobs/preview",
    response={200: PreviewOut, 413: dict, **ERRORS},
    auth=OPERATOR,
    summary="What a job would do: sendable and refused counts per reason, tier, time. Nothing is sent",
)
@decorate_view(allow_body_up_to(BULK_BODY_LIMIT))  # a 5 MiB CSV, however its JSON escapes it
def preview(request: AuthedRequest, payload: PreviewIn):
    result = actions.preview(
        _audience(payload),
        payload.message.model_dump(exclude_none=True),
        channel=payload.channel,
        sender=payload.sender,
        senders=payload.senders,
        user=request.auth,
    )
    return PreviewOut.of(result)


START_DESCRIPTION = """Starts a job: 201 with the job, `pending` and `preparing` (its recipients and chunks are
written in the background; `preparedRecipients` counts them) until workers take its chunks.

**Idempotency**: send an `Idempotency-Key` header (any unique string up to 200 printable ASCII
characters, e.g. a UUID) to make retries safe. The same key with the same payload within 24 h
returns the job it started (200, same `jobId`), also when two such requests arrive at once; the
same key with a different payload is refused with 409. Without the header every call starts a new job."""


@router.post(
    "/jobs",
    response={200: JobOut, 201: JobOut, 409: dict, 413: dict, **ERRORS},
    auth=OPERATOR,
    summary="Start a job. Above the threshold: confirm=true and previewedCount = the preview's sendable count",
    description=START_DESCRIPTION,
)
@decorate_view(allow_body_up_to(BULK_BODY_LIMIT))
def start(request: AuthedRequest, payload: JobIn):
    started = actions.start(
        _audience(payload),
        payload.message.model_dump(exclude_none=True),
        channel=payload.channel,
        sender=payload.sender,
        senders=payload.senders,
        user=request.auth,
        confirm=payload.confirm,
        previewed_count=payload.previewedCount,
        name=payload.name,
        confirm_repeat=payload.confirmRepeat,
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return Status(201 if started.created else 200, JobOut.of(queries.get_job(started.job.jobId)))


@router.get("/jobs", response={200: JobPage, **ERRORS}, auth=VIEWER, summary="List bulk jobs")
def list_jobs(request: AuthedRequest, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)):
    page = queries.list_jobs(cursor, limit=limit)
    return JobPage(items=[JobOut.of(job) for job in page.items], nextCursor=page.next_cursor)


@router.get(
    "/jobs/{job_id}",
    response={200: JobOut, 404: dict, **ERRORS},
    auth=VIEWER,
    summary="A job with its progress and, when finished, its report link",
)
def get_job(request: AuthedRequest, job_id: str):
    job = queries.get_job(job_id)
    report_url = (
        request.build_absolute_uri(reverse("api-1.0:bulk_job_report", args=[job.jobId])) if job.reportKey else None
    )
    return JobOut.of(job, report_url=report_url)


@router.get(
    "/jobs/{job_id}/report.csv",
    response={200: None, 404: dict, **ERRORS},
    auth=VIEWER,
    url_name="bulk_job_report",
    summary="The job's per-recipient CSV report, streamed through the app (404 until it is written)",
)
def get_report(request: AuthedRequest, job_id: str):
    job = queries.get_job(job_id)
    if not job.reportKey:
        raise NotFound(f"the report for job {job_id} is not ready yet")
    return reports.report_download(job)


@router.put(
    "/jobs/{job_id}",
    response={200: JobOut, 404: dict, 409: dict, **ERRORS},
    auth=OPERATOR,
    summary="Pause, resume or cancel a job",
)
def control(request: AuthedRequest, job_id: str, payload: ControlIn):
    return JobOut.of(actions.control(job_id, payload.action, user=request.auth))


@router.get(
    "/jobs/{job_id}/recipients",
    response={200: RecipientPage, 404: dict, **ERRORS},
    auth=VIEWER,
    summary="A job's recipients in audience order, with their states",
)
def recipients(request: AuthedRequest, job_id: str, cursor: str | None = None, limit: int = Query(100, ge=1, le=500)):
    page = queries.recipients(job_id, cursor, limit=limit)
    return RecipientPage(items=[RecipientOut.of(r) for r in page.items], nextCursor=page.next_cursor)
