from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from bulk import queries
from messaging.schemas import MediaIn, TemplateIn


class AudienceIn(Schema):
    """Exactly one of: a filter (search and/or optedIn), csv, contactIds."""

    model_config = ConfigDict(extra="forbid")
    search: str | None = Field(
        None, max_length=200, description="Contacts matching this text (name, phone or email), as the contacts search"
    )
    optedIn: bool = Field(False, description="Only (or all) live contacts opted in on the job's channel")
    csv: str | None = Field(
        None,
        max_length=5 * 1024 * 1024,
        description="CSV text: a phone (or email) column, optional param1..N / header1..N template values",
    )
    contactIds: list[str] | None = Field(None, max_length=50_000)


class BulkMessageIn(Schema):
    """The message as POST /api/messages takes it, without contactId, channel and sender."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=5000)
    template: TemplateIn | None = None
    media: MediaIn | None = None
    subject: str | None = Field(None, max_length=998)
    html: str | None = Field(None, max_length=200_000)


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    audience: AudienceIn
    channel: Literal["whatsapp", "sms", "email"]
    sender: str | None = Field(
        None, max_length=200, description="Allowlisted sender; the channel's first one when omitted"
    )
    senders: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None,
        max_length=10,
        description="WhatsApp only: a campaign on several allowlisted numbers (sender, if given, "
        "first). The recipients take the numbers in turn, so each number sends its share at its own "
        "rate limit",
    )
    message: BulkMessageIn


class JobIn(PreviewIn):
    confirm: bool = Field(False, description="Required (true) above the confirmation threshold, with previewedCount")
    previewedCount: int | None = Field(None, ge=0, description="The sendable count the preview showed")
    name: str | None = Field(
        None, max_length=200, description="The campaign's name (80 characters kept); made from the message when omitted"
    )
    confirmRepeat: bool = Field(
        False,
        description="Required (true) when the preview lists repeats: the same content went to some of "
        "these recipients in another job of the last BULK_REPEAT_WARNING_HOURS",
    )


class TierOut(Schema):
    businessInitiated: int
    shortfall: int
    allows: bool


class RepeatOut(Schema):
    jobId: str
    name: str
    createdAt: datetime
    overlap: int = Field(description="Recipients of this job that the earlier job reached or will reach")


class PreviewOut(Schema):
    channel: str
    sender: str
    senders: list[str]
    total: int
    sendable: int
    refused: dict[str, int]
    tier: TierOut
    estimatedSeconds: float
    needsConfirmation: bool
    threshold: int
    repeats: list[RepeatOut] = Field(
        description="Jobs of the last BULK_REPEAT_WARNING_HOURS with the same content to some of these "
        "recipients; starting needs confirmRepeat=true when there are any"
    )

    @staticmethod
    def of(preview) -> PreviewOut:
        return PreviewOut(
            channel=preview.channel,
            sender=preview.sender,
            senders=preview.senders,
            total=preview.total,
            sendable=preview.sendable,
            refused=preview.refused,
            tier=TierOut(
                businessInitiated=preview.tier.business_initiated,
                shortfall=preview.tier.shortfall,
                allows=preview.tier.allows,
            ),
            estimatedSeconds=preview.estimated_seconds,
            needsConfirmation=preview.needs_confirmation,
            threshold=preview.threshold,
            repeats=[
                RepeatOut(jobId=r.job_id, name=r.title, createdAt=r.created_at, overlap=r.overlap)
                for r in preview.repeats
            ],
        )


class ProgressOut(Schema):
    total: int
    sent: int
    failed: int
    skipped: int
    cancelled: int
    unknown: int
    pending: int
    percent: int
    perSecond: float


class JobOut(Schema):
    jobId: str
    name: str
    status: str
    channel: str
    sender: str | None
    senders: list[str] = Field(description="Every number or sender the job sends from, sender first")
    createdBy: str
    message: dict
    audience: dict | None
    progress: ProgressOut
    createdAt: datetime
    startedAt: datetime | None
    completedAt: datetime | None
    preparing: bool = Field(
        description="True until every recipient and chunk is written and "
        "the chunks are queued (the bulk.prepare_job task)"
    )
    preparedRecipients: int = Field(description="Recipients written so far, of progress.total")
    pausedReason: str | None = Field(
        default=None, description="Why the platform paused the job (WhatsApp stopped its template); null otherwise"
    )
    reportUrl: str | None = None

    @staticmethod
    def of(job, *, report_url: str | None = None) -> JobOut:
        p = queries.progress(job)
        return JobOut(
            jobId=job.jobId,
            name=job.title,
            status=job.status,
            channel=job.channel,
            sender=job.sender,
            senders=job.sending_from,
            createdBy=job.createdBy,
            message=job.messageSpec or {},
            audience=job.audience,
            progress=ProgressOut(
                total=p.total,
                sent=p.sent,
                failed=p.failed,
                skipped=p.skipped,
                cancelled=p.cancelled,
                unknown=p.unknown,
                pending=p.pending,
                percent=p.percent,
                perSecond=p.per_second,
            ),
            createdAt=job.createdAt,
            startedAt=job.startedAt,
            completedAt=job.completedAt,
            preparing=job.preparing,
            preparedRecipients=int(job.preparedRecipients or 0),
            pausedReason=job.pausedReason if job.status == "paused" else None,
            reportUrl=report_url,
        )


class JobPage(Schema):
    items: list[JobOut]
    nextCursor: str | None


class ControlIn(Schema):
    model_config = ConfigDict(extra="forbid")
    action: Literal["pause", "resume", "cancel"]


class RecipientOut(Schema):
    recipientId: str
    row: int | None
    recipient: str | None
    contactId: str | None
    status: str
    reason: str | None
    messageId: str | None
    claimedAt: datetime | None
    sentAt: datetime | None
    finishedAt: datetime | None

    @staticmethod
    def of(r) -> RecipientOut:
        return RecipientOut(
            recipientId=r.recipientId,
            row=int(r.row) if r.row is not None else None,
            recipient=r.address,
            contactId=r.contactId,
            status=r.status,
            reason=r.reason,
            messageId=r.messageId,
            claimedAt=r.claimedAt,
            sentAt=r.sentAt,
            finishedAt=r.finishedAt,
        )


class RecipientPage(Schema):
    items: list[RecipientOut]
    nextCursor: str | None
