"""/api/inbox: the WhatsApp team inbox. Viewers read conversations and timelines; operators mark
read, archive, reply (through the one send path: 422 with the gate's code when refused) and
record a customer's WhatsApp consent. A conversation is named as in the page URLs: its key
without ``CONV#``, ``~`` for ``#``."""

from __future__ import annotations

from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from messaging.inbox import actions, queries
from messaging.schemas import MessageOut, RefusalOut, TemplateIn
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.api_auth import OPERATOR, VIEWER
from wecare.http import AuthedRequest

router = Router(tags=["inbox"])

ERRORS = {401: dict, 403: dict}


class ConversationOut(Schema):
    conversation: str = Field(description="The id used in URLs: the key without CONV#, ~ for #")
    customerPhone: str | None = Field(description="E.164; null for a customer WhatsApp names only by a user id")
    customerUserId: str | None = Field(
        None,
        description="WhatsApp's business-scoped user id, when the customer writes with a username instead of a number",
    )
    businessNumber: str | None
    receivedAt: str | None
    lastType: str | None
    lastPreview: str | None
    unreadCount: int
    archived: bool

    @staticmethod
    def of(c: WaConversation) -> ConversationOut:
        return ConversationOut(
            conversation=queries.slug(c.pk),
            customerPhone=queries.customer_phone(c),
            customerUserId=None if queries.customer_phone(c) else queries.customer(c),
            businessNumber=c.originationPhoneNumberId,
            receivedAt=c.receivedAt,
            lastType=c.lastType,
            lastPreview=c.lastPreview,
            unreadCount=int(c.unreadCount or 0),
            archived=bool(c.archived),
        )


class ConversationPageOut(Schema):
    items: list[ConversationOut]
    nextCursor: str | None


class WaMessageOut(Schema):
    waMessageId: str
    direction: str
    type: str | None
    receivedAt: str | None
    text: str | None
    caption: str | None
    filename: str | None
    preview: str | None
    reactedWithEmoji: str | None
    deliveryStatus: str | None
    failureReason: str | None
    markedAsRead: bool
    mediaUrl: str | None = Field(description="Short-lived (5 minutes) link to the stored file; null without one")

    @staticmethod
    def of(m: WaMessage) -> WaMessageOut:
        return WaMessageOut(
            waMessageId=m.pk.removeprefix("MSG#"),
            direction=m.direction,
            type=m.type,
            receivedAt=m.receivedAt,
            text=m.textBody,
            caption=m.caption,
            filename=m.filename,
            preview=m.preview,
            reactedWithEmoji=m.reactedWithEmoji,
            deliveryStatus=m.deliveryStatus,
            failureReason=queries.failure_reason(m),
            markedAsRead=bool(m.markedAsRead),
            mediaUrl=queries.media_link(m),
        )


class TimelineOut(Schema):
    conversation: ConversationOut
    items: list[WaMessageOut] = Field(description="Oldest first; the newest page unless a cursor is given")
    olderCursor: str | None


class ReadOut(Schema):
    unreadCount: int
    markedMessages: int


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=4096)
    template: TemplateIn | None = None


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    confirmed: bool = Field(description="Must be true: the customer agreed to receive WhatsApp messages")
    note: str | None = Field(None, max_length=actions.MAX_NOTE)


class ConsentOut(Schema):
    contactId: str
    optInWhatsApp: bool
    changedBy: str
    source: str


@router.get(
    "",
    response={200: ConversationPageOut, 404: dict, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="A business number's conversations, newest first",
)
def list_conversations(
    request: AuthedRequest,
    number: str | None = Query(
        None, max_length=200, description="An allowlisted phone-number id; the first one when omitted"
    ),
    archived: bool = False,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(queries.PAGE_SIZE, ge=1, le=queries.MAX_PAGE),
):
    page = queries.list_conversations(number or queries.numbers()[0], archived=archived, cursor=cursor, limit=limit)
    return ConversationPageOut(items=[ConversationOut.of(c) for c in page.items], nextCursor=page.next_cursor)


@router.get(
    "/{conversation}",
    response={200: TimelineOut, 404: dict, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="A conversation's messages (reading marks nothing read)",
)
def get_timeline(
    request: AuthedRequest,
    conversation: str,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(queries.PAGE_SIZE, ge=1, le=queries.MAX_PAGE),
):
    item = queries.get_conversation(conversation)
    view = queries.timeline(item, cursor=cursor, limit=limit)
    return TimelineOut(
        conversation=ConversationOut.of(item),
        items=[WaMessageOut.of(m) for m in view.items],
        olderCursor=view.older_cursor,
    )


@router.post(
    "/{conversation}/read",
    response={200: ReadOut, 404: dict, **ERRORS},
    auth=OPERATOR,
    summary="Mark the newest page read (and send the read receipt in LIVE)",
)
def mark_read(request: AuthedRequest, conversation: str):
    item = queries.get_conversation(conversation)
    marked = actions.mark_read(item, queries.timeline(item).items, user=request.auth)
    item.refresh(consistent_read=True)
    return ReadOut(unreadCount=int(item.unreadCount or 0), markedMessages=marked)


@router.post(
    "/{conversation}/archive",
    response={200: ConversationOut, 404: dict, **ERRORS},
    auth=OPERATOR,
    summary="Archive a conversation",
)
def archive(request: AuthedRequest, conversation: str):
    return ConversationOut.of(actions.set_archived(queries.get_conversation(conversation), True, user=request.auth))


@router.post(
    "/{conversation}/unarchive",
    response={200: ConversationOut, 404: dict, **ERRORS},
    auth=OPERATOR,
    summary="Bring a conversation back to the inbox",
)
def unarchive(request: AuthedRequest, conversation: str):
    return ConversationOut.of(actions.set_archived(queries.get_conversation(conversation), False, user=request.auth))


@router.post(
    "/{conversation}/reply",
    response={202: MessageOut, 404: dict, 422: RefusalOut | dict, **ERRORS},
    auth=OPERATOR,
    summary="Reply from the conversation's number (free-form in the 24 h window, template otherwise)",
)
def reply(request: AuthedRequest, conversation: str, payload: ReplyIn):
    message = actions.reply(
        queries.get_conversation(conversation), payload.model_dump(exclude_none=True), user=request.auth
    )
    return Status(202, MessageOut.of(message))


@router.post(
    "/{conversation}/consent",
    response={200: ConsentOut, 404: dict, 422: dict, **ERRORS},
    auth=OPERATOR,
    summary="Record that the customer agreed to WhatsApp messages (audited)",
)
def record_consent(request: AuthedRequest, conversation: str, payload: ConsentIn):
    contact = actions.record_whatsapp_consent(
        queries.get_conversation(conversation), confirmed=payload.confirmed, note=payload.note, user=request.auth
    )
    consent = contact.consent("whatsapp")
    assert consent is not None  # update_contact records who gave the consent and how
    return ConsentOut(
        contactId=contact.contactId,
        optInWhatsApp=contact.optInWhatsApp,
        changedBy=consent.changedBy,
        source=consent.source,
    )
