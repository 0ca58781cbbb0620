"""Search over conversations and their messages: by the contact's name, number or email address,
and by words in messages either way on every channel, read from the inverted index
``messaging.search_index`` writes. docs/design/inbox.md, "Search".

Bounded by construction: at most ``MAX_TERMS`` words of a query, each one Query of its word's
partition reading the newest ``PER_TERM`` entries; a conversation matches when every word does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from messaging import search_index
from messaging.conversation_index import InboxConversation
from messaging.search_index import SearchEntry
from wecare.dynamo import not_expired

MAX_TERMS = 4
PER_TERM = 200  # newest entries read per word
MAX_RESULTS = 20
MAX_QUERY = 200
PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")


@dataclass(frozen=True)
class Hit:
    conversation: InboxConversation
    snippet: str | None  # the matching message's text around the word; None when the contact matched
    at: str  # when that message was recorded (or the conversation's last message)


def terms(query: str) -> list[str]:
    """The index words a query looks for: a number as its digits, an address whole, else its words."""
    query = (query or "").strip()[:MAX_QUERY]
    if PHONE.match(query):
        number = search_index.digits(query)
        # "------" looks like a number and has no digit: an empty word is no key to read.
        return [number] if len(number) >= search_index.MIN_WORD else []
    if "@" in query and " " not in query:
        return [search_index.normalise(query)]
    return search_index.words(query)[:MAX_TERMS]


def search(query: str, *, limit: int = MAX_RESULTS) -> list[Hit]:
    """Conversations matching every term, newest match first."""
    wanted = terms(query)
    if not wanted:
        return []
    best: dict[str, SearchEntry] | None = None
    for term in wanted:
        found: dict[str, SearchEntry] = {}
        for entry in SearchEntry.query(
            term, scan_index_forward=False, limit=PER_TERM, filter_condition=not_expired(SearchEntry.expiresAt)
        ):
            # A message's words are newer-first in the partition; a contact's term only if no message matched.
            if entry.conversation not in found or (found[entry.conversation].snippet is None and entry.snippet):
                found[entry.conversation] = entry
        best = found if best is None else {k: _pick(v, found[k]) for k, v in best.items() if k in found}
    ranked = sorted((best or {}).values(), key=lambda e: e.at, reverse=True)[:limit]
    items = {c.key: c for c in InboxConversation.batch_get([e.conversation for e in ranked])}
    return [Hit(items[e.conversation], e.snippet, e.at) for e in ranked if e.conversation in items]


def _pick(first: SearchEntry, second: SearchEntry) -> SearchEntry:
    """Of two words' entries for one conversation, the one that shows a message (the newer)."""
    if first.snippet and second.snippet:
        return first if first.at >= second.at else second
    return first if first.snippet else second
