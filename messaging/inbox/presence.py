"""Who else has a conversation open, and who is typing in it: one short-lived item per person and
conversation, refreshed by their page while it is open and by their keystrokes, read by the page's
poll. docs/design/inbox.md, "Conversation work".

Items carry a DynamoDB TTL, but DynamoDB deletes expired items up to 48 hours late, so every read
filters on the expiry itself: a page that closed is gone from the notice within ``SEEN_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from wecare import audit
from wecare.dynamo import DynamoModel, meta, not_expired, now, register

SEEN_SECONDS = 20  # a page refreshes its presence every 8 s while open; two missed refreshes and it is gone
TYPING_SECONDS = 6  # "is typing…" outlasts the keystroke refreshes (one every 2 s at most)
MAX_PEOPLE = 20


@register
class Presence(DynamoModel):
    Meta = meta("InboxPresence")
    conversation = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)
    typingUntil = UnicodeAttribute(null=True)  # ISO time
    expiresAt = TTLAttribute()


@dataclass(frozen=True)
class Someone:
    username: str
    typing: bool


def touch(conversation: str, user: Any, *, typing: bool) -> None:
    """The person has the conversation open (and is typing, if ``typing``)."""
    at = now()
    Presence(
        conversation=conversation,
        username=audit.actor_id(user),
        typingUntil=(at + timedelta(seconds=TYPING_SECONDS)).isoformat() if typing else None,
        expiresAt=timedelta(seconds=SEEN_SECONDS),
    ).save()


def leave(conversation: str, user: Any) -> None:
    """The page closed: gone at once rather than when the item expires."""
    Presence(conversation=conversation, username=audit.actor_id(user)).delete()


def others(conversation: str, user: Any) -> list[Someone]:
    """Everyone else with the conversation open now, typists first."""
    me, at = audit.actor_id(user), now().isoformat()
    found = [
        Someone(p.username, bool(p.typingUntil and p.typingUntil > at))
        for p in Presence.query(
            conversation, filter_condition=not_expired(Presence.expiresAt), limit=MAX_PEOPLE, consistent_read=True
        )
        if p.username != me
    ]
    return sorted(found, key=lambda s: (not s.typing, s.username))
