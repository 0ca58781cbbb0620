"""Email threads by Message-ID: which thread a mail's In-Reply-To / References name, and the
threading headers and subject of our reply in a thread. The lookup is the ``EmailMessageIds``
table (messaging/threads.py); docs/design/email.md says why it is keyed as it is.

Pages call ``reply_headers(thread_id)`` and ``reply_subject(subject)``; the send path calls
``headers_for(message)`` so every email carrying a ``threadId`` goes out threaded, and records our
sent mail's Message-ID (``sent_id_item``) in the transaction that marks it sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings

from messaging.models import MESSAGE_RETENTION_DAYS, Message
from messaging.threads import EmailMessageId, Thread

RETENTION = timedelta(days=MESSAGE_RETENTION_DAYS)
# An id longer than this is not one a mail system made (RFC 5322 lines stop at 998 characters);
# a DynamoDB key may be 2048 bytes, so every id we keep fits one.
MAX_ID_CHARS = 500
# The ids a reply's References carries, and the ids of an incoming mail we look up: the first of
# the chain (the thread's root) and the nearest ones, as RFC 5322 3.6.4 suggests when trimming.
MAX_REFERENCES = 20
# How many of a thread's latest messages are read to find what a reply answers.
RECENT_MESSAGES = 50
ID_IN_BRACKETS = re.compile(r"<([^<>\s]{1,500})>")
REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|réf|ref)\s*(\[\d+\])?\s*:", re.IGNORECASE)


def parse_ids(value: str | None) -> list[str]:
    """The Message-IDs in an In-Reply-To or References value, without their angle brackets, in
    order. Some mailers leave the brackets out: then each space-separated word with an @ counts."""
    if not value:
        return []
    found = ID_IN_BRACKETS.findall(value)
    if not found:
        found = [word for word in value.split() if "@" in word and "<" not in word and ">" not in word]
    return [message_id for message_id in found if len(message_id) <= MAX_ID_CHARS]


def lookup_key(message_id: str) -> str:
    """The lookup's key for a Message-ID. SES sets the Message-ID of what we send to
    ``<SES MessageId>@<region>.amazonses.com`` (``email.amazonses.com`` in us-east-1), and AWS does
    not promise the domain part: our own mail is known by the SES MessageId alone."""
    local, at, domain = message_id.rpartition("@")
    domain = domain.lower()
    if at and local and (domain == "amazonses.com" or domain.endswith(".amazonses.com")):
        return f"ses#{local}"
    return f"id#{message_id}"


def sent_message_id(ses_message_id: str) -> str:
    """The Message-ID SES gives a mail it sends (without brackets), in the configured domain."""
    return f"{ses_message_id}@{settings.SES_MESSAGE_ID_DOMAIN}"


def trimmed(ids: list[str]) -> list[str]:
    """At most MAX_REFERENCES ids: the first (the thread's root) and the latest."""
    unique = list(dict.fromkeys(ids))
    if len(unique) <= MAX_REFERENCES:
        return unique
    return [unique[0], *unique[-(MAX_REFERENCES - 1) :]]


def find_thread(ids: Iterable[str]) -> str | None:
    """The thread of the nearest id we know (give In-Reply-To first, then References latest
    first), or None. Our sent mail not in the lookup (sent before threads, or outside one) is
    found through the Messages item's providerMessageId (its index), when it has a thread."""
    for message_id in list(dict.fromkeys(ids))[:MAX_REFERENCES]:
        key = lookup_key(message_id)
        try:
            return EmailMessageId.get(key, consistent_read=True).threadId
        except EmailMessageId.DoesNotExist:
            pass
        if key.startswith("ses#"):
            thread_id = _thread_of_sent(key.removeprefix("ses#"))
            if thread_id:
                return thread_id
    return None


def _thread_of_sent(ses_message_id: str) -> str | None:
    for message in Message.by_provider_id.query(ses_message_id, limit=5):
        if message.channel == "email" and message.threadId:
            return message.threadId
    return None


def id_item(message_id: str, *, thread_id: str, message: str) -> EmailMessageId:
    """The lookup item of one Message-ID (``message`` is the Messages item's id)."""
    return EmailMessageId(key=lookup_key(message_id), threadId=thread_id, messageId=message, expiresAt=RETENTION)


def sent_id_item(message: Message, ses_message_id: str) -> EmailMessageId | None:
    """The lookup item of an email we sent in a thread, so the customer's reply to it joins the
    thread; None for an email outside a thread."""
    if message.channel != "email" or not message.threadId:
        return None
    return EmailMessageId(
        key=f"ses#{ses_message_id}", threadId=message.threadId, messageId=message.messageId, expiresAt=RETENTION
    )


def reply_subject(subject: str | None) -> str:
    """ "Re: <subject>", never "Re: Re: ..." (nor after a Swedish "SV:" or German "AW:")."""
    subject = " ".join((subject or "").split())
    if REPLY_PREFIX.match(subject):
        return subject
    return f"Re: {subject}" if subject else "Re:"


def thread_reply_subject(thread_id: str) -> str:
    """The subject of a reply in this thread: "Re: " and the thread's first subject."""
    try:
        return reply_subject(Thread.get(thread_id).subject)
    except Thread.DoesNotExist:
        return reply_subject(None)


def reply_headers(thread_id: str) -> dict[str, str]:
    """``In-Reply-To`` and ``References`` for our next mail in the thread: it answers the
    customer's latest mail (else our own latest), and References is that mail's chain followed
    by its id, trimmed to MAX_REFERENCES. Empty when the thread has no mail with a known id."""
    parent: str | None = None
    chain: list[str] = []
    latest_sent: str | None = None
    for message in Message.by_thread.query(thread_id, scan_index_forward=False, limit=RECENT_MESSAGES):
        content = message.content or {}
        if message.direction == "inbound" and content.get("messageIdHeader"):
            parent, chain = content["messageIdHeader"], list(content.get("references") or [])
            break
        if message.direction == "outbound" and message.providerMessageId and latest_sent is None:
            latest_sent = sent_message_id(message.providerMessageId)
    if parent is None:
        if latest_sent is None:
            return {}
        parent = latest_sent
    references = trimmed([*chain, parent])
    return {"In-Reply-To": f"<{parent}>", "References": " ".join(f"<{ref}>" for ref in references)}


def headers_for(message: Message) -> dict[str, str]:
    """The threading headers an outbound email carries: those of its thread, if it has one."""
    if message.channel != "email" or not message.threadId:
        return {}
    return reply_headers(message.threadId)
