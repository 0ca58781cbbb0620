"""Where a conversation's messages come from, per channel: WhatsApp's ``CONV#``/``MSG#`` items of
the single table, or an SMS or email ``Thread`` and its ``Messages``. The one inbox's views ask a
``Source`` (a registry by channel, not a switch) to load a conversation, draw its timeline, mark
it read and say who it is with; the reads and actions themselves stay in ``queries`` /
``thread_queries`` and ``actions`` / ``thread_actions``. docs/design/inbox.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.http import QueryDict

from contacts.models import Contact
from messaging import voice_calls
from messaging.conversation_index import InboxConversation, channel_of
from messaging.inbox import actions as wa_actions
from messaging.inbox import notes, thread_actions, thread_queries
from messaging.inbox import queries as wa_queries
from messaging.models import Message, VoiceCall
from messaging.threads import Thread
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.errors import NotFound

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.+Z-]{2,30}$")

# How each WhatsApp message type is drawn: a registry, so a new type is one line and one small template.
TYPE_TEMPLATES = {
    "text": "text",
    "template": "text",
    "image": "image",
    "sticker": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "location": "location",
    "reaction": "reaction",
    "interactive": "choice",
    "button": "choice",
    "system": "text",
    "unsupported": "unsupported",
}
TICKS = {"sent": "✓", "delivered": "✓✓", "read": "✓✓"}
THREAD_BODY = "messaging/inbox/_thread_body.html"


class BadTimes(ValueError):
    """A read mark or poll named times this page was not given."""


@dataclass
class Shown:
    """A message as the timeline draws it, whatever its channel (messaging/inbox/_message.html)."""

    message: Any  # the WaMessage or Message, for the body's partial
    id: str
    at: str  # ISO time, to place staff notes among the messages
    direction: str  # inbound | outbound
    when: str
    status: str
    template: str  # the partial that draws the body
    mark: str = ""
    failure: str | None = None
    kind: str = ""
    sender_name: str | None = None
    dry_run: bool = False
    media_url: str | None = None  # WhatsApp media
    text: str = ""  # SMS and email
    subject: str | None = None
    html: str | None = None
    attachments: list[Any] = field(default_factory=list)

    is_note = False
    is_call = False

    @property
    def tick(self) -> str:  # the name the WhatsApp type partials know
        return self.mark


@dataclass
class NoteEntry:
    """A staff note placed in the thread (drawn by work/_note.html)."""

    note: Any
    at: str
    is_note = True
    is_call = False


@dataclass
class CallEntry:
    """A WhatsApp voice call placed in the thread (drawn by inbox/_call.html)."""

    call: VoiceCall
    at: str
    is_note = False
    is_call = True


@dataclass
class TimelineView:
    shown: list[Shown]
    older_cursor: str | None
    seen: str
    since: str = ""  # WhatsApp: the oldest message shown, which the poll asks from
    read_since: str | None = None  # set when the page should mark what it drew read
    read_until: str | None = None
    notes: list[Any] = field(default_factory=list)
    calls: list[VoiceCall] = field(default_factory=list)

    @property
    def entries(self) -> list[Shown | NoteEntry | CallEntry]:
        """Messages, staff notes and calls in time order, as the thread draws them."""
        notes = [NoteEntry(n, str(getattr(n, "at", ""))) for n in self.notes]
        calls = [CallEntry(c, c.startedAt.isoformat()) for c in self.calls]
        return sorted([*self.shown, *notes, *calls], key=lambda e: e.at)

    def with_calls(self, conversation_pk: str, since: datetime | None, until: datetime | None) -> TimelineView:
        """Add the WhatsApp conversation's voice calls made between ``since`` and ``until``
        (None: from the start, to now)."""
        self.calls = voice_calls.in_conversation(conversation_pk, since, until)
        if self.calls and self.seen:  # a new call, or one that ended, redraws the polled part too
            self.seen = wa_queries.digest([self.seen, [f"{c.callId}:{c.status}" for c in self.calls]])
        return self

    def with_notes(self, key: str, *, newest: bool) -> TimelineView:
        """Add the conversation's notes written in the span these messages cover (to now, for the
        newest part)."""
        if self.shown:
            self.notes = notes.in_range(key, self.shown[0].at, None if newest else self.shown[-1].at)
        if self.notes and self.seen:  # a new note redraws the polled part too
            self.seen = wa_queries.digest([self.seen, [str(getattr(n, "at", "")) for n in self.notes]])
        return self


class WhatsAppSource:
    channel = "whatsapp"

    def load(self, rest: str) -> WaConversation:
        try:
            return wa_queries.get_conversation(rest)
        except NotFound:
            return self._started_by_us(rest)

    @staticmethod
    def _started_by_us(rest: str) -> WaConversation:
        """A conversation we began (a template sent to a customer who has not written yet) has its
        messages and its inbox row but no ``CONV#`` item, which WhatsApp's layout creates at the
        customer's first message. Its row must open, not 404: the item is drawn from the inbox
        row, never saved (the customer's first message creates the real one)."""
        pk = wa_queries.conversation_pk(rest)  # NotFound for a malformed key
        try:
            row = InboxConversation.get(f"whatsapp~{rest}", consistent_read=True)
        except InboxConversation.DoesNotExist:
            raise NotFound(f"no conversation {rest[:80]}") from None
        customer = pk.rsplit("#", 1)[-1]
        by_number = customer.startswith("+")
        return WaConversation(
            pk=pk,
            originationPhoneNumberId=row.business or None,
            customerPhone=customer if by_number else None,
            customerUserId=None if by_number else customer,
            lastPreview=row.lastPreview,
        )

    def contact_for(self, item: WaConversation) -> Contact | None:
        return wa_queries.contact_for(item)

    def customer(self, item: WaConversation) -> str:
        return wa_queries.customer(item)

    def shown(self, items: list[WaMessage]) -> list[Shown]:
        return [
            Shown(
                message=m,
                id=m.pk,
                at=m.receivedAt or "",
                direction=(m.direction or "").lower(),
                when=f"{(m.receivedAt or '')[:10]} {(m.receivedAt or '')[11:16]}",
                status=m.deliveryStatus or "",
                template=f"messaging/inbox/types/_{TYPE_TEMPLATES.get(m.type or '', 'other')}.html",
                mark=TICKS.get(m.deliveryStatus or "", ""),
                failure=wa_queries.failure_reason(m),
                kind=m.type or "unknown",
                sender_name=m.senderName,
                media_url=wa_queries.media_link(m),
            )
            for m in items
        ]

    def latest(self, item: WaConversation, *, since: str | None = None, can_read: bool) -> TimelineView:
        """The newest messages; with ``since``, everything from then on (a live view that grew past
        a page never loses a message off its top)."""
        if since and not ISO_TIME.match(since):
            raise BadTimes("since must be an ISO 8601 time this page was given")
        view = wa_queries.timeline(item, since=since)
        first = view.items[0].receivedAt if view.items else ""
        result = TimelineView(self.shown(view.items), view.older_cursor, wa_queries.timeline_digest(view), first or "")
        # Calls from the oldest message shown on (from the start when no older page is left).
        result.with_calls(item.pk, _parsed(since or first or "") if since or view.older_cursor else None, None)
        if view.items and can_read and wa_queries.has_unread(item, view.items):
            result.read_since, result.read_until = first, view.items[-1].receivedAt
        return result

    def older(self, item: WaConversation, cursor: str | None) -> TimelineView:
        view = wa_queries.timeline(item, cursor=cursor)
        result = TimelineView(self.shown(view.items), view.older_cursor, "")
        if view.items:  # calls between this page's first message (or the start) and its last
            first, last = view.items[0].receivedAt or "", view.items[-1].receivedAt or ""
            result.with_calls(item.pk, _parsed(first) if view.older_cursor else None, _parsed(last))
        return result

    def mark_read(self, item: WaConversation, post: QueryDict, *, user: Any) -> None:
        """The page shows the messages from ``since`` to ``until``: mark those read, only those, so
        a message that arrived after it was drawn stays unread."""
        since, until = post.get("since", ""), post.get("until", "")
        if not (ISO_TIME.match(since) and ISO_TIME.match(until)):
            raise BadTimes("since and until must be the ISO 8601 times this page was given")
        shown = [m for m in wa_queries.timeline(item, since=since).items if (m.receivedAt or "") <= until]
        wa_actions.mark_read(item, shown, user=user)


class ThreadSource:
    """SMS and email conversations (``Thread`` items)."""

    def __init__(self, channel: str):
        self.channel = channel

    def load(self, rest: str) -> Thread:
        return thread_queries.get_thread(f"{self.channel}~{rest}", self.channel)

    def contact_for(self, item: Thread) -> Contact | None:
        return thread_queries.contact_for(item)

    def customer(self, item: Thread) -> str:
        return item.customer

    def shown(self, items: list[Message]) -> list[Shown]:
        result = []
        for m in items:
            content = m.content or {}
            result.append(
                Shown(
                    message=m,
                    id=m.messageId,
                    at=m.timestamp.isoformat() if m.timestamp else "",
                    direction=m.direction,
                    when=m.timestamp.strftime("%Y-%m-%d %H:%M") if m.timestamp else "",
                    status=m.status or "",
                    template=THREAD_BODY,
                    mark={"sent": "✓", "delivered": "✓✓"}.get(m.status or "", ""),
                    failure=thread_queries.failure(m),
                    kind=self.channel,
                    sender_name=content.get("fromName"),  # an email's From name, as the customer's mail gave it
                    dry_run=bool(m.dryRun),
                    text=content.get("text") or "",
                    subject=content.get("subject") if self.channel == "email" else None,
                    html=thread_queries.safe_html(m),
                    attachments=thread_queries.attachments(m),
                )
            )
        return result

    def latest(self, item: Thread, *, since: str | None = None, can_read: bool) -> TimelineView:
        """The newest page of messages (the poll redraws it whole)."""
        view = thread_queries.messages(item)
        result = TimelineView(self.shown(view.items), view.older_cursor, thread_queries.timeline_digest(view))
        if can_read and int(item.unreadCount or 0) > 0:
            result.read_since = result.read_until = item.lastAt  # the page posts this once it shows them
        return result

    def older(self, item: Thread, cursor: str | None) -> TimelineView:
        view = thread_queries.messages(item, cursor=cursor)
        return TimelineView(self.shown(view.items), view.older_cursor, "")

    def mark_read(self, item: Thread, post: QueryDict, *, user: Any) -> None:
        """The page showed the conversation as it was at ``until`` (its lastAt): mark it read,
        unless a message came after."""
        until = post.get("until", "")
        if not ISO_TIME.match(until):
            raise BadTimes("until must be the ISO 8601 time this page was given")
        thread_actions.mark_read(item, seen_last_at=until, user=user)


def _parsed(at: str) -> datetime | None:
    """An ISO time of the timeline (a message's receivedAt, or the poll's ``since``, checked
    against ISO_TIME); None when it cannot be read, which widens the span rather than fail."""
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Source = WhatsAppSource | ThreadSource
SOURCES: dict[str, Source] = {"whatsapp": WhatsAppSource(), "sms": ThreadSource("sms"), "email": ThreadSource("email")}


def source_for(key: str) -> tuple[Source, str]:
    """The source of a conversation key and the key's part after the channel; NotFound for a key
    of no channel."""
    channel = channel_of(key)
    if channel not in SOURCES or "~" not in key:
        raise NotFound(f"no conversation {key[:80]}")
    return SOURCES[channel], key.split("~", 1)[1]
