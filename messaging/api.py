"""/api/messages: send (202 queued, or 422 with the gate's reason code), list, delete, usage."""

from __future__ import annotations

from ninja import File, Query, Router, Status
from ninja.decorators import decorate_view
from ninja.files import UploadedFile

from messaging import queries
from messaging.models import Message
from messaging.outbound import media
from messaging.outbound import send as send_path
from messaging.schemas import MediaOut, MessageIn, MessageOut, MessagePage, PreflightOut, RefusalOut, UsageOut
from wecare import audit
from wecare.api_auth import ADMIN, OPERATOR, VIEWER
from wecare.bodylimits import MIB, refuse_body_over
from wecare.errors import FieldErrors, NotFound
from wecare.http import AuthedRequest

router = Router(tags=["messages"])

ERRORS = {401: dict, 403: dict}

# The largest file WhatsApp takes (100 MB documents), plus room for the multipart framing around
# it; larger is refused before it is read, let alone spooled to disk and checked.
MEDIA_BODY_LIMIT = max(kind.max_bytes for kind in media.MEDIA_TYPES.values()) + MIB


@router.post(
    "",
    response={202: MessageOut, 422: RefusalOut | dict, **ERRORS},
    auth=OPERATOR,
    summary="Send a message (queued; the status moves as it is sent)",
)
def send(request: AuthedRequest, payload: MessageIn):
    message = send_path.send_message(payload.model_dump(exclude_none=True), user=request.auth, source="api")
    return Status(202, MessageOut.of(message))


@router.post(
    "/media",
    response={201: MediaOut, 413: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Upload a file to send on WhatsApp; its s3Key and contentType then go in a send's media",
)
@decorate_view(refuse_body_over(MEDIA_BODY_LIMIT))
def upload_media(request: AuthedRequest, file: UploadedFile = File(...)):
    size = file.size
    assert size is not None  # Django's upload handlers always set it; the type allows None for File in general
    try:
        content_type = media.check_file(file, size)
    except media.MediaRefused as refusal:
        raise FieldErrors({"file": str(refusal)}) from None
    key = media.issue_key(file.name or "file")
    media.store(key, file, content_type, size)
    audit.record(request.auth, "media.upload", "media", key, contentType=content_type, size=size)
    return Status(201, MediaOut(s3Key=key, contentType=content_type, filename=(file.name or "file")[-240:], size=size))


@router.post(
    "/preflight",
    response={200: PreflightOut, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="Would this send be allowed? Nothing is sent or recorded",
)
def preflight(request: AuthedRequest, payload: MessageIn):
    send_request = send_path.parse(payload.model_dump(exclude_none=True))
    verdict = send_path.preflight(send_request, send_path.load_contact(send_request.contact_id))
    segments = send_request.content().get("segments")
    return PreflightOut(
        allowed=verdict.allowed,
        code=verdict.reason.value if verdict.reason else None,
        detail=verdict.message or "Allowed.",
        segments=segments,
    )


@router.get(
    "",
    response={200: MessagePage, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="List messages, newest first for a contact",
)
def list_messages(
    request: AuthedRequest,
    contactId: str | None = None,
    channel: str | None = Query(None, pattern="^(whatsapp|sms|email)$"),
    status: str | None = Query(None, max_length=20),
    direction: str | None = Query(None, pattern="^(inbound|outbound)$"),
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    items, next_cursor = queries.list_messages(
        contact_id=contactId, channel=channel, status=status, direction=direction, cursor=cursor, limit=limit
    )
    return MessagePage(items=[MessageOut.of(m) for m in items], nextCursor=next_cursor)


@router.get(
    "/usage",
    response={200: list[UsageOut], **ERRORS},
    auth=VIEWER,
    summary="Template and free-form sends per day and sender (cost)",
)
def usage(request: AuthedRequest, days: int = Query(7, ge=1, le=31)):
    return [
        UsageOut(
            channel=u.channel,
            sender=u.sender,
            day=u.day,
            templateCount=int(u.templateCount or 0),
            freeformCount=int(u.freeformCount or 0),
        )
        for u in queries.usage(days)
    ]


@router.get(
    "/{message_id}",
    response={200: MessageOut, 404: dict, **ERRORS},
    auth=VIEWER,
    summary="Get a message with its status history",
)
def get_message(request: AuthedRequest, message_id: str):
    try:
        return MessageOut.of(Message.get(message_id, consistent_read=True))
    except Message.DoesNotExist:
        raise NotFound(f"no message with id {message_id}") from None


@router.delete(
    "/{message_id}", response={204: None, 404: dict, **ERRORS}, auth=ADMIN, summary="Delete a message record (admin)"
)
def delete_message(request: AuthedRequest, message_id: str):
    try:
        message = Message.get(message_id)
    except Message.DoesNotExist:
        raise NotFound(f"no message with id {message_id}") from None
    message.delete()
    audit.record(
        request.auth, "message.delete", "message", message_id, contactId=message.contactId, channel=message.channel
    )
    return Status(204, None)
