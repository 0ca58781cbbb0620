"""/api/threads: the SMS and email conversations. Viewers list a business number's (or receiving
address's) conversations and read one's messages; operators reply, through the one send path
(422 with the gate's code when refused), the reply landing in the same conversation. A
conversation is named as in the page URLs: its id with ``~`` for ``#`` (``sms~+9198…~+9199…``,
``email~01J…``). docs/design/inbox.md."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from messaging.inbox import thread_actions as actions
from messaging.inbox import thread_queries as queries
from messaging.inbox.thread_forms import MAX_EMAIL_TEXT
from messaging.models import Message
from messaging.outbound.send import MAX_SUBJECT
from messaging.schemas import MessageOut, RefusalOut
from messaging.threads import Thread
from wecare.api_auth import OPERATOR, VIEWER
from wecare.errors import FieldErrors
from wecare.http import AuthedRequest

router = Router(tags=["threads"])

ERRORS = {401: dict, 403: dict}


class ThreadOut(Schema):
    thread: str = Field(description="The id used in URLs: the thread id with ~ for #")
    channel: str
    business: str = Field(description="The business number (E.164) or receiving address")
    customer: str = Field(description="The customer's number (E.164) or email address")
    contactId: str | None
    subject: str | None
    lastAt: str
    lastPreview: str | None
    lastDirection: str | None
    unreadCount: int
    messageCount: int
    archived: bool

    @staticmethod
    def of(t: Thread) -> ThreadOut:
        return ThreadOut(
            thread=queries.slug(t.threadId),
            channel=t.channel,
            business=t.business,
            customer=t.customer,
            contactId=t.contactId,
            subject=t.subject,
            lastAt=t.lastAt,
            lastPreview=t.lastPreview,
            lastDirection=t.lastDirection,
            unreadCount=int(t.unreadCount or 0),
            messageCount=int(t.messageCount or 0),
            archived=bool(t.archived),
        )


class ThreadPageOut(Schema):
    business: str | None = Field(description="The inbox listed; null when the channel has none yet")
    inboxes: list[str] = Field(description="Every business number or receiving address with an inbox")
    items: list[ThreadOut]
    nextCursor: str | None


class AttachmentOut(Schema):
    filename: str
    contentType: str
    size: int | None
    url: str | None = Field(description="Short-lived (5 minutes) link to the stored file; null without one")


class ThreadMessageOut(Schema):
    messageId: str
    direction: str
    timestamp: datetime
    status: str
    sender: str | None
    text: str | None
    subject: str | None
    html: str | None = Field(description="An email's HTML, sanitised")
    attachments: list[AttachmentOut]
    failure: str | None
    dryRun: bool

    @staticmethod
    def of(m: Message) -> ThreadMessageOut:
        content = m.content or {}
        return ThreadMessageOut(
            messageId=m.messageId,
            direction=m.direction,
            timestamp=m.timestamp,
            status=m.status,
            sender=m.sender,
            text=content.get("text"),
            subject=content.get("subject"),
            html=queries.safe_html(m),
            attachments=[
                AttachmentOut(filename=a.filename, contentType=a.content_type, size=a.size, url=a.url)
                for a in queries.attachments(m)
            ],
            failure=queries.failure(m),
            dryRun=bool(m.dryRun),
        )


class ThreadMessagesOut(Schema):
    thread: ThreadOut
    items: list[ThreadMessageOut] = Field(description="Oldest first; the newest page unless a cursor is given")
    olderCursor: str | None


class ThreadReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_EMAIL_TEXT, description="SMS allows 1600 characters")
    subject: str | None = Field(None, max_length=MAX_SUBJECT, description="Email only; 'Re: …' when omitted")


@router.get(
    "",
    response={200: ThreadPageOut, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="A business number's (SMS) or receiving address's (email) conversations, newest first",
)
def list_threads(
    request: AuthedRequest,
    channel: Literal["sms", "email"] = "sms",
    business: str | None = Query(None, max_length=320, description="The inbox; the first one when omitted"),
    archived: bool = False,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(queries.PAGE_SIZE, ge=1, le=queries.MAX_PAGE),
):
    inboxes = queries.inboxes(channel)
    if business is not None and not queries.is_inbox_name(channel, business):
        what = "a number in E.164 (+…)" if channel == "sms" else "an email address"
        raise FieldErrors({"business": f"must be {what}"})
    chosen = business or (inboxes[0] if inboxes else None)
    if chosen is None:
        return ThreadPageOut(business=None, inboxes=inboxes, items=[], nextCursor=None)
    page = queries.list_threads(channel, chosen, archived=archived, cursor=cursor, limit=limit)
    return ThreadPageOut(
        business=chosen, inboxes=inboxes, items=[ThreadOut.of(t) for t in page.items], nextCursor=page.next_cursor
    )


@router.get(
    "/{thread}/messages",
    response={200: ThreadMessagesOut, 404: dict, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="A conversation's messages (reading marks nothing read)",
)
def thread_messages(
    request: AuthedRequest,
    thread: str,
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(queries.PAGE_SIZE, ge=1, le=queries.MAX_PAGE),
):
    item = queries.get_thread(thread)
    view = queries.messages(item, cursor=cursor, limit=limit)
    return ThreadMessagesOut(
        thread=ThreadOut.of(item), items=[ThreadMessageOut.of(m) for m in view.items], olderCursor=view.older_cursor
    )


@router.post(
    "/{thread}/reply",
    response={202: MessageOut, 404: dict, 422: RefusalOut | dict, **ERRORS},
    auth=OPERATOR,
    summary="Reply in the conversation (SMS from its number if allowlisted, else the pool; email threaded, Re:)",
)
def reply(request: AuthedRequest, thread: str, payload: ThreadReplyIn):
    item = queries.get_thread(thread)
    if payload.subject and item.channel != "email":
        raise FieldErrors({"subject": "is for email only"})
    message = actions.reply(item, text=payload.text, subject=payload.subject, user=request.auth)
    return Status(202, MessageOut.of(message))
