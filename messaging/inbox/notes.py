"""Private notes on a conversation: written by staff from the composer's Private note mode, shown
in the timeline among the messages, visible only to staff and never sent (nothing here reaches a
sender). docs/design/inbox.md, "Conversation work".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition
from ulid import ULID

from messaging.models import MESSAGE_RETENTION_DAYS
from wecare import audit
from wecare.dynamo import DynamoModel, meta, now, register
from wecare.errors import FieldErrors

MAX_NOTE = 2000
MAX_NOTES_SHOWN = 200  # in one range of the timeline


@register
class Note(DynamoModel):
    """One note; ``sk`` is its ISO time then its ULID, so a range of times is one Query."""

    Meta = meta("InboxNotes")
    conversation = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    author = UnicodeAttribute()  # username
    text = UnicodeAttribute()
    expiresAt = TTLAttribute()  # kept as long as the messages around it

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.at)

    @property
    def note_id(self) -> str:
        return self.sk.rsplit("~", 1)[-1]


def add(conversation: str, text: str, *, user: Any) -> Note:
    text = (text or "").strip()
    if not text:
        raise FieldErrors({"text": "write the note first"})
    if len(text) > MAX_NOTE:
        raise FieldErrors({"text": f"is {len(text)} characters; at most {MAX_NOTE}"})
    at = now().isoformat()
    note = Note(
        conversation=conversation,
        sk=f"{at}~{ULID()}",
        at=at,
        author=audit.actor_id(user),
        text=text,
        expiresAt=timedelta(days=MESSAGE_RETENTION_DAYS),
    )
    note.save()
    audit.record(user, "conversation.note", "conversation", conversation, note=note.note_id)
    return note


def in_range(conversation_key: str, oldest: str | None, newest: str | None) -> list[Note]:
    """The conversation's notes written between two ISO times (either end open), oldest first.
    Each note has ``at`` (ISO), ``author`` and ``text``; the timeline draws it with
    messaging/inbox/work/_note.html."""
    condition: Condition | None = None
    if oldest and newest:
        condition = Note.sk.between(oldest, newest + "~\uffff")
    elif oldest:
        condition = Note.sk >= oldest
    elif newest:
        condition = Note.sk <= newest + "~\uffff"
    return list(Note.query(conversation_key, range_key_condition=condition, limit=MAX_NOTES_SHOWN))
