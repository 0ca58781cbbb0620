from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class HeaderMediaIn(Schema):
    model_config = ConfigDict(extra="forbid")
    s3Key: str = Field(
        max_length=1024, description="The s3Key POST /api/messages/media answered (no other key is accepted)"
    )
    contentType: str = Field(max_length=100)
    filename: str | None = Field(None, max_length=240, description="Shown for a document header")


class TemplateParametersIn(Schema):
    model_config = ConfigDict(extra="forbid")
    header: list[Any] | None = Field(None, description="Values of a text header's placeholders")
    body: list[Any] | None = Field(None, examples=[["Asha", "12:30"]])
    buttons: list[Any] | None = Field(None, description="Per URL button, its values", examples=[[["token"]]])
    headerMedia: HeaderMediaIn | None = Field(
        None, description="The file of an image, video or document header (uploaded through POST /api/messages/media)"
    )


class TemplateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=512)
    language: str = Field(max_length=20, examples=["en_US"])
    parameters: TemplateParametersIn | None = None


class MediaIn(Schema):
    model_config = ConfigDict(extra="forbid")
    s3Key: str = Field(
        max_length=1024, description="The s3Key POST /api/messages/media answered (no other key is accepted)"
    )
    contentType: str = Field(max_length=100)
    filename: str | None = Field(None, max_length=240)
    caption: str | None = Field(None, max_length=1024)


class MediaOut(Schema):
    s3Key: str
    contentType: str = Field(description="The type found in the file's content (what WhatsApp will be told)")
    filename: str
    size: int


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")
    contactId: str = Field(max_length=64)
    channel: Literal["whatsapp", "sms", "email"]
    sender: str | None = Field(
        None, max_length=200, description="Allowlisted sender; the channel's first one when omitted"
    )
    text: str | None = Field(None, max_length=5000)
    template: TemplateIn | None = None
    media: MediaIn | None = None
    subject: str | None = Field(None, max_length=998)
    html: str | None = Field(None, max_length=200_000)


class StatusChangeOut(Schema):
    status: str
    at: datetime
    details: dict | None = None


class MessageOut(Schema):
    messageId: str
    contactId: str
    channel: str
    direction: str
    status: str
    sender: str | None
    templateName: str | None
    content: dict | None
    timestamp: datetime
    statusHistory: list[StatusChangeOut]
    errorDetails: dict | None
    whatsappMessageId: str | None
    dryRun: bool

    @staticmethod
    def of(message) -> MessageOut:
        return MessageOut(
            messageId=message.messageId,
            contactId=message.contactId,
            channel=message.channel,
            direction=message.direction,
            status=message.status,
            sender=message.sender,
            templateName=message.templateName,
            content=message.content,
            timestamp=message.timestamp,
            statusHistory=[
                StatusChangeOut(status=c.status, at=c.at, details=c.details) for c in (message.statusHistory or [])
            ],
            errorDetails=message.errorDetails,
            whatsappMessageId=message.whatsappMessageId,
            dryRun=bool(message.dryRun),
        )


class MessagePage(Schema):
    items: list[MessageOut]
    nextCursor: str | None


class RefusalOut(Schema):
    code: str = Field(
        description="CONTACT_DELETED, NO_ADDRESS, PHONE_NUMBER_REQUIRED, CONSENT_NEVER_GIVEN, CONSENT_WITHDRAWN, "
        "SUPPRESSED, SENDER_NOT_ALLOWLISTED, TEMPLATE_REQUIRED or TIER_LIMIT"
    )
    detail: str


class UsageOut(Schema):
    channel: str
    sender: str
    day: str
    templateCount: int
    freeformCount: int


class PreflightOut(Schema):
    allowed: bool
    code: str | None
    detail: str
    segments: dict | None = None


class VoiceCallOut(Schema):
    callId: str = Field(description="Meta's call id (wacid.…)")
    contactId: str | None
    customer: str | None = Field(description="The customer as WhatsApp named them: E.164 number or user id")
    phoneNumberId: str | None = Field(description="Our business number that took or placed the call")
    direction: str | None = Field(description="inbound (the customer called) or outbound (the business called)")
    status: str | None = Field(description="ringing, accepted, rejected, completed or failed")
    durationSeconds: int | None
    startedAt: datetime
    endedAt: datetime | None

    @classmethod
    def of(cls, call: Any) -> VoiceCallOut:
        return cls(
            callId=call.callId,
            contactId=call.contactId,
            customer=call.customer,
            phoneNumberId=call.phoneNumberId,
            direction=call.direction,
            status=call.status,
            durationSeconds=int(call.durationSeconds) if call.durationSeconds is not None else None,
            startedAt=call.startedAt,
            endedAt=call.endedAt,
        )


class VoiceCallPage(Schema):
    items: list[VoiceCallOut]
    nextCursor: str | None
