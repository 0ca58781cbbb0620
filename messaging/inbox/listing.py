"""The one inbox's conversation list: pages of ``InboxConversation`` items (every channel) through
the status and assignee indexes, filtered by Mine / Unassigned / All, status, channel, label and
business number, and what a row shows. docs/design/inbox.md, "The list".

A filter other than the index's key is a DynamoDB filter, so a read can come back short; further
reads ask for what is still missing (``paging.filled``). Cursors are signed and scoped to the
filters, so a cursor of one list is refused by another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict

from messaging import business_numbers
from messaging.conversation_index import InboxConversation, Status, channel_of
from messaging.inbox import paging
from messaging.inbox.queries import PAGE_SIZE, digest
from wecare.dynamo import Cursor, now

VIEWS = ("all", "mine", "unassigned")
CHANNELS = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "Email"}
STATUSES = tuple(s.value for s in Status)
MAX_LABEL = 40
UNREAD_SCAN = 200  # open conversations read to count unread messages for the sidebar and title


@dataclass(frozen=True)
class Filters:
    """What the list shows, from the page's query string; unknown values fall back to defaults."""

    view: str = "all"
    status: str = Status.OPEN.value
    channel: str = ""
    label: str = ""
    business: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> Filters:
        view = query.get("view", "")
        status = query.get("status", "")
        channel = query.get("channel", "")
        return cls(
            view=view if view in VIEWS else "all",
            status=status if status in STATUSES else Status.OPEN.value,
            channel=channel if channel in CHANNELS else "",
            label=(query.get("label") or "").strip()[:MAX_LABEL],
            business=(query.get("business") or "").strip()[:320],
        )

    def query(self, **change: str) -> str:
        """The query string of these filters with ``change`` applied (no cursor: a new list)."""
        values = {**self.__dict__, **change}
        defaults = Filters().__dict__
        return urlencode({k: v for k, v in values.items() if v and v != defaults[k]})

    @property
    def scope(self) -> str:
        return "inbox-list:" + "|".join(str(v) for v in self.__dict__.values())


@dataclass
class Page:
    items: list[InboxConversation]
    next_cursor: str | None


def _condition(filters: Filters, *, by_status: bool) -> Any:
    """The DynamoDB filter for what the index key does not already select."""
    I = InboxConversation  # noqa: E741 - attribute paths read better short
    conditions: list[Any] = []
    if not by_status:
        conditions.append(I.status == filters.status)
    if filters.view == "unassigned":
        conditions.append(I.assignee.does_not_exist())
    if filters.channel:
        conditions.append(I.channel == filters.channel)
    if filters.label:
        conditions.append(I.labels.contains(filters.label))
    if filters.business:
        conditions.append(I.business == filters.business)
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def list_page(filters: Filters, *, username: str, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """One page of conversations, newest first. Mine reads the assignee index; Unassigned and All
    read the status index."""
    mine = filters.view == "mine"
    index = InboxConversation.by_assignee if mine else InboxConversation.by_status
    hash_key = username if mine else filters.status
    condition = _condition(filters, by_status=not mine)
    items, key = paging.filled(
        lambda left, start: index.query(
            hash_key, scan_index_forward=False, filter_condition=condition, limit=left, last_evaluated_key=start
        ),
        limit,
        Cursor.decode(cursor, scope=filters.scope),
        InboxConversation,
    )
    return Page(items, Cursor.encode(key, scope=filters.scope))


def get(key: str) -> InboxConversation | None:
    try:
        return InboxConversation.get(key, consistent_read=True)
    except InboxConversation.DoesNotExist:
        return None


def unread_total() -> int:
    """Unread customer messages across open conversations, for the sidebar and the tab title: one
    bounded read (the newest ``UNREAD_SCAN`` open conversations), never a scan of the table."""
    results = InboxConversation.by_status.query(
        Status.OPEN.value,
        scan_index_forward=False,
        filter_condition=InboxConversation.unreadCount > 0,
        limit=UNREAD_SCAN,
        page_size=UNREAD_SCAN,
    )
    return sum(int(c.unreadCount or 0) for c in results)


# --- what a row shows ----------------------------------------------------------------------


def waiting(since: str | None, at: datetime | None = None) -> str:
    """How long the customer has waited for a person, as a person says it ("waiting 12 min")."""
    if not since:
        return ""
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        return ""
    minutes = max(0, int(((at or now()) - started).total_seconds() // 60))
    if minutes < 1:
        return "waiting <1 min"
    if minutes < 60:
        return f"waiting {minutes} min"
    if minutes < 48 * 60:
        return f"waiting {minutes // 60} h"
    return f"waiting {minutes // (24 * 60)} d"


@dataclass
class Row:
    conv: InboxConversation
    key: str
    name: str  # the contact's name, else their number or address
    channel_label: str
    business_label: str
    preview: str
    ours: bool  # the last message is ours: the preview reads "You: …"
    waiting: str
    unread: int
    labels: list[str] = field(default_factory=list)


def rows(items: list[InboxConversation]) -> list[Row]:
    at = now()
    return [
        Row(
            conv=c,
            key=c.key,
            name=c.contactName or c.customer,
            channel_label=CHANNELS.get(c.channel or channel_of(c.key), c.channel or ""),
            business_label=business_numbers.label(c.business) if c.business else "",
            preview=_preview(c),
            ours=c.lastDirection == "outbound",
            waiting=waiting(c.waitingSince, at),
            unread=int(c.unreadCount or 0),
            labels=sorted(c.labels or []),
        )
        for c in items
    ]


def _preview(c: InboxConversation) -> str:
    text = c.lastPreview or ""
    if c.lastType and c.lastType not in ("text", "template") and not text:
        return f"[{c.lastType}]"
    return text


def list_digest(page: Page) -> str:
    """What the polled list shows; the waiting time is in it, so the list redraws as it grows."""
    at = now()
    return digest(
        [
            (
                c.key,
                c.lastAt,
                int(c.unreadCount or 0),
                c.status,
                c.assignee,
                sorted(c.labels or []),
                waiting(c.waitingSince, at),
            )
            for c in page.items
        ]
    )
