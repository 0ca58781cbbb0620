"""Reading WhatsApp voice calls (the VoiceCalls table, written by ``messaging/inbound/calls.py``):
newest first, always by a Query on an index keyed by time (a contact's calls, a conversation's,
or every call), with direction and status as filters. docs/design/calls.md.
"""

from __future__ import annotations

from datetime import datetime

from messaging.models import CALLS_FEED, VoiceCall
from wecare.dynamo import Cursor, Page, filtered_page, not_expired

MAX_SCANNED = 2000  # read per page at most, when filters leave most calls out
SHOWN_IN_THREAD = 100


def list_calls(
    *,
    contact_id: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[VoiceCall]:
    """Calls newest first, ``since`` <= startedAt <= ``until``; the cursor pages through the same
    list (InvalidCursor for one another list issued)."""
    condition = not_expired(VoiceCall.expiresAt)
    for attribute, value in ((VoiceCall.direction, direction), (VoiceCall.status, status)):
        if value:
            condition = condition & (attribute == value)
    span = _span(since, until)
    scope = f"voice-calls:{contact_id or '*'}:{since.isoformat() if since else ''}:{until.isoformat() if until else ''}"
    index, key = (VoiceCall.by_contact, contact_id) if contact_id else (VoiceCall.by_time, CALLS_FEED)
    pages = index.query(
        key,
        range_key_condition=span,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=Cursor.decode(cursor, scope=scope),
        page_size=min(MAX_SCANNED, max(limit * 2, 50)),
    ).page_iter
    return filtered_page(pages, VoiceCall, limit=limit, scope=scope, max_scanned=MAX_SCANNED)


def in_conversation(conversation_pk: str, since: datetime | None, until: datetime | None) -> list[VoiceCall]:
    """A WhatsApp conversation's calls placed between two messages of its timeline, oldest first."""
    found = VoiceCall.by_conversation.query(
        conversation_pk,
        range_key_condition=_span(since, until),
        filter_condition=not_expired(VoiceCall.expiresAt),
        scan_index_forward=False,
        limit=SHOWN_IN_THREAD,
    )
    return list(reversed(list(found)))


def _span(since: datetime | None, until: datetime | None):
    if since and until:
        return VoiceCall.startedAt.between(since, until)
    if since:
        return VoiceCall.startedAt >= since
    if until:
        return VoiceCall.startedAt <= until
    return None
