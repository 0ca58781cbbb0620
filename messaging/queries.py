"""Reading messages: a contact's history through the contactId GSI, newest first; without a
contact, a paged Scan with filters (fine for the 30 days the table keeps; say so if it grows)."""

from __future__ import annotations

from datetime import timedelta

from messaging.models import Message, UsageCounter
from wecare.dynamo import Cursor, filtered_page, not_expired, now

MAX_SCANNED = 2000


def list_messages(
    *,
    contact_id: str | None,
    channel: str | None,
    status: str | None,
    direction: str | None,
    cursor: str | None,
    limit: int,
):
    condition = not_expired(Message.expiresAt)
    for attribute, value in ((Message.channel, channel), (Message.status, status), (Message.direction, direction)):
        if value:
            condition = condition & (attribute == value)
    scope = f"messages:contact:{contact_id}" if contact_id else "messages"
    start = Cursor.decode(cursor, scope=scope)
    if contact_id:
        pages = Message.by_contact.query(
            contact_id, filter_condition=condition, scan_index_forward=False, last_evaluated_key=start, page_size=100
        ).page_iter
    else:
        pages = Message.scan(filter_condition=condition, last_evaluated_key=start, page_size=200).page_iter
    page = filtered_page(pages, Message, limit=limit, scope=scope, max_scanned=MAX_SCANNED)
    return page.items, page.next_cursor


def usage(days: int) -> list[UsageCounter]:
    """Template and free-form counts per channel, sender and day, for the last ``days`` days."""
    wanted = {(now() - timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days)}
    rows = list(UsageCounter.scan(UsageCounter.day.is_in(*wanted)))
    return sorted(rows, key=lambda r: (r.day, r.channel, r.sender), reverse=True)
