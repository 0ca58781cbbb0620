"""The inbox search's inverted index: normalised words -> the conversations (and messages) that
hold them. DynamoDB has no full-text search, so each recorded message's words, and the name,
number or address of the conversation's contact, are written here by a task enqueued once the
message's transaction has committed; the search (messaging/inbox/search.py) reads one partition
per word. docs/design/inbox.md, "Search".

Entries are written with deterministic keys, so the task is idempotent: a redelivered task
writes the same items again. They expire with the messages they point at (counted from the
message's time, however late the task runs).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings
from pynamodb.attributes import TTLAttribute, UnicodeAttribute

from messaging.models import MESSAGE_RETENTION_DAYS
from wecare.dlq import DeadLetterTask
from wecare.dynamo import DynamoModel, meta, now, register

log = logging.getLogger("messaging.search")

MAX_WORDS_PER_MESSAGE = 40  # distinct words of one message indexed, in the order they come
MAX_TEXT_CHARS = 2000  # of a message's text: the words of a long email's tail are not indexed
MIN_WORD, MAX_WORD = 2, 40
SNIPPET_CHARS = 120
_WORD = re.compile(r"\w+")
NATIONAL_DIGITS = 10  # a number is also found by its last ten digits (most national numbers' length)


@register
class SearchEntry(DynamoModel):
    """One word of one message (``ref`` = ``<ISO time>~<conversation key>``), or one term of the
    conversation's contact (``ref`` = ``contact~<conversation key>``, rewritten by each message)."""

    Meta = meta("InboxSearch")
    word = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute(range_key=True)
    conversation = UnicodeAttribute()
    at = UnicodeAttribute()
    snippet = UnicodeAttribute(null=True)
    expiresAt = TTLAttribute()


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """The distinct words of ``text`` as the index keeps them: NFKC, case-folded, letters and
    digits only (so "Refund?" is "refund"), 2 to 40 characters, in order of first appearance."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(normalise(text[:MAX_TEXT_CHARS])):
        if MIN_WORD <= len(word) <= MAX_WORD:
            seen.setdefault(word, None)
    return list(seen)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def contact_terms(name: str | None, customer: str) -> list[str]:
    """What finds a conversation by who it is with: the words of the contact's name, the number's
    digits (whole, and the last ten), an email address whole and its words."""
    terms = words(name or "")
    if "@" in customer:
        terms += [normalise(customer.strip()), *words(customer)]
    elif digits(customer):
        number = digits(customer)
        terms += [number, number[-NATIONAL_DIGITS:]]
    else:  # a WhatsApp user id (a customer writing with a username)
        terms.append(normalise(customer))
    return list(dict.fromkeys(t for t in terms if len(t) >= MIN_WORD))


def snippet(text: str, word: str) -> str:
    """The part of ``text`` around the first place ``word`` occurs (the whole text if short)."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    at = max(normalise(flat).find(word), 0)
    start = max(0, at - SNIPPET_CHARS // 3)
    end = start + SNIPPET_CHARS
    return ("…" if start else "") + flat[start:end].strip() + ("…" if end < len(flat) else "")


def expiry(at: str) -> datetime:
    """When a message recorded at ``at`` (ISO) is deleted, and its entries with it: counted from the
    message, not from the indexing, so a task retried or replayed from the dead-letter queue days
    later keeps no word of it longer than the message itself."""
    try:
        recorded = datetime.fromisoformat(at)
    except ValueError:
        recorded = now()
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)
    return recorded + timedelta(days=MESSAGE_RETENTION_DAYS)


def entries(conversation: str, at: str, text: str, *, name: str | None, customer: str) -> list[SearchEntry]:
    expires = expiry(at)
    if expires <= now():
        return []  # the message itself is gone: nothing of it is indexed again
    found = [
        SearchEntry(
            word=w,
            ref=f"{at}~{conversation}",
            conversation=conversation,
            at=at,
            snippet=snippet(text, w),
            expiresAt=expires,
        )
        for w in words(text)[:MAX_WORDS_PER_MESSAGE]
    ]
    found += [
        SearchEntry(word=t, ref=f"contact~{conversation}", conversation=conversation, at=at, expiresAt=expires)
        for t in contact_terms(name, customer)
    ]
    return found


# Queue: default (settings.CELERY_TASK_ROUTES); retried, then parked on default-dlq.
@shared_task(base=DeadLetterTask, name="messaging.index_message_words")
def index_message(conversation: str, at: str, text: str, name: str | None, customer: str) -> int:
    """Write one message's entries. Takes the text itself rather than re-reading the message: it
    never changes once recorded, and the channels keep it in three different items."""
    items = entries(conversation, at, text, name=name, customer=customer)
    with SearchEntry.batch_write() as batch:
        for item in items:
            batch.save(item)
    return len(items)


def index_later(conversation: str, at: str, text: str, *, name: str | None, customer: str) -> None:
    """Enqueue ``index_message`` (after the message's transaction committed). A failure to enqueue
    costs only this message's place in search, never the message: it is logged, not raised.
    Nothing is enqueued where ``INBOX_SEARCH_INDEXING`` is off (the test settings, see there)."""
    if not settings.INBOX_SEARCH_INDEXING:
        return
    try:
        # Only what is indexed travels: an email's body could be larger than an SQS message.
        index_message.delay(conversation, at, text[:MAX_TEXT_CHARS], name, customer)
    except Exception as exc:  # noqa: BLE001 - the message is recorded; search is best effort
        log.warning("search indexing not enqueued", extra={"conversation": conversation, "error": str(exc)})
