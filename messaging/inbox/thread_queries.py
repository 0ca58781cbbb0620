"""Reads of the SMS and email conversations (``Thread`` items, messaging/threads.py): the inboxes
(business numbers, receiving addresses), a number's or address's conversations newest first, a
conversation's messages in time order, and what a page shows about a message (its sanitised HTML,
links to its attachments). docs/design/inbox.md.

A conversation's URL names it by its id with ``~`` for ``#`` (``sms~+9198…~+9199…``,
``email~01J…``): ``#`` cannot travel in a URL path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from contacts.models import Contact
from contacts.queries import find_live_by_email, find_live_by_phone
from messaging import email_html
from messaging.channels import Channel, allowed_senders
from messaging.conversation_index import key_for_thread
from messaging.inbound import email_attachments
from messaging.inbox import paging
from messaging.inbox.queries import MAX_PAGE, PAGE_SIZE, digest
from messaging.models import MediaFile, Message
from messaging.threads import THREAD_ID, Thread, channel_of, inbox_key
from wecare.dynamo import Cursor
from wecare.errors import NotFound

CHANNELS = ("sms", "email")
# Inboxes found from the conversations that exist, beside the configured ones: how many Thread
# items one page view may read to find them (a scan; configure the numbers to skip it).
MAX_DISCOVERY_SCAN = 500


# --- names ---------------------------------------------------------------------------------


def slug(thread_id: str) -> str:
    return key_for_thread(thread_id)  # a thread's URL name is its key in the one inbox


def thread_id(thread_slug: str) -> str:
    candidate = thread_slug.replace("~", "#")
    if not THREAD_ID.match(candidate):
        raise NotFound(f"no conversation {thread_slug[:80]}")
    return candidate


E164 = re.compile(r"^\+[1-9][0-9]{3,14}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def is_inbox_name(channel: str, value: str) -> bool:
    """Whether ``value`` can name an inbox of the channel: a number in E.164, or an address."""
    return bool((E164 if channel == "sms" else EMAIL).match(value))


def configured_inboxes(channel: str) -> list[str]:
    """The business numbers (SMS) or receiving addresses (email) the settings name: the two-way
    numbers (``SMS_NUMBERS``); the receiving addresses (``EMAIL_RECEIVING_ADDRESSES``), then the
    SES sender address (an email sent from a contact's page starts a conversation under it)."""
    if channel == "sms":
        return [n for n in settings.SMS_NUMBERS if n.startswith("+")]
    return list(dict.fromkeys(a for a in [*settings.EMAIL_RECEIVING_ADDRESSES, *allowed_senders(Channel.EMAIL)] if a))


def inboxes(channel: str) -> list[str]:
    """The configured inboxes first, in their order, then any other number or address a
    conversation exists with (a customer wrote to it), found by a bounded scan."""
    found = dict.fromkeys(configured_inboxes(channel))
    scanned = Thread.scan(
        Thread.channel == channel,
        attributes_to_get=["business"],
        limit=MAX_DISCOVERY_SCAN,
        page_size=MAX_DISCOVERY_SCAN,
    )
    for item in scanned:
        if item.business:
            found.setdefault(item.business, None)
    return list(found)


# --- reads ---------------------------------------------------------------------------------


@dataclass
class ThreadPage:
    items: list[Thread]
    next_cursor: str | None


def list_threads(
    channel: str, business: str, *, archived: bool = False, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ThreadPage:
    """A business number's (or address's) conversations, newest first, archived or not. The
    archived flag is a filter, so a read can come back short; further reads ask for what is
    missing (``paging.filled``), as the WhatsApp lists do."""
    if channel not in CHANNELS:
        raise NotFound(f"no {channel} conversations")
    wanted = Thread.archived == True if archived else (Thread.archived.does_not_exist() | (Thread.archived == False))  # noqa: E712 - DynamoDB conditions
    scope = f"threads:{inbox_key(channel, business)}:{int(archived)}"
    items, key = paging.filled(
        lambda left, start: Thread.by_inbox.query(
            inbox_key(channel, business),
            scan_index_forward=False,
            filter_condition=wanted,
            limit=left,
            last_evaluated_key=start,
        ),
        limit,
        Cursor.decode(cursor, scope=scope),
        Thread,
    )
    return ThreadPage(items, Cursor.encode(key, scope=scope))


def get_thread(thread_slug: str, channel: str | None = None) -> Thread:
    """The conversation a URL names; NotFound for a malformed name, another channel's, or none."""
    tid = thread_id(thread_slug)
    if channel and channel_of(tid) != channel:
        raise NotFound(f"no {channel} conversation {thread_slug[:80]}")
    try:
        return Thread.get(tid, consistent_read=True)
    except Thread.DoesNotExist:
        raise NotFound(f"no conversation {thread_slug[:80]}") from None


@dataclass
class Timeline:
    items: list[Message]  # oldest first, as a timeline reads
    older_cursor: str | None


def messages(thread: Thread, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> Timeline:
    """A conversation's messages: the newest page (or the page before ``cursor``), oldest first."""
    scope = f"thread-messages:{thread.threadId}"
    results = Message.by_thread.query(
        thread.threadId,
        scan_index_forward=False,
        limit=min(limit, MAX_PAGE),
        last_evaluated_key=Cursor.decode(cursor, scope=scope),
    )
    items = list(results)
    return Timeline(list(reversed(items)), Cursor.encode(results.last_evaluated_key, scope=scope))


def list_digest(page: ThreadPage) -> str:
    return digest([(t.threadId, t.lastAt, int(t.unreadCount or 0), bool(t.archived)) for t in page.items])


def timeline_digest(view: Timeline) -> str:
    return digest([(m.messageId, m.status) for m in view.items])


def contact_for(thread: Thread) -> Contact | None:
    """The live contact the conversation is with: the one recorded on it, else the one holding
    the customer's number or address now."""
    if thread.contactId:
        try:
            contact = Contact.get(thread.contactId, consistent_read=True)
        except Contact.DoesNotExist:
            contact = None
        if contact is not None and not contact.is_deleted:
            return contact
    find = find_live_by_phone if thread.channel == "sms" else find_live_by_email
    return find(thread.customer)


def contact_names(items: list[Thread]) -> dict[str, str]:
    """The names of the live contacts the conversations are with, by contact id: one batch read
    for a page of conversations."""
    ids = {t.contactId for t in items if t.contactId}
    return {c.contactId: c.name for c in Contact.batch_get(ids) if c.name and not c.is_deleted} if ids else {}


# --- what a message shows ----------------------------------------------------------------------


def safe_html(message: Message) -> str | None:
    """An email's HTML for the page: sanitised again here by the inbound email code's own rules
    (``email_html.for_display``), so a rule tightened later applies to mail recorded before it."""
    html = (message.content or {}).get("html")
    return email_html.for_display(html) if isinstance(html, str) and html else None


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int | None
    url: str | None  # a short-lived link to the stored file; None when it is not stored
    withheld: bool = False  # not stored: SES found a virus in the mail


def attachments(message: Message) -> list[Attachment]:
    found = []
    for item in (message.content or {}).get("attachments") or []:
        if isinstance(item, dict):
            found.append(
                Attachment(
                    filename=str(item.get("filename") or "attachment")[:240],
                    content_type=str(item.get("contentType") or ""),
                    size=item.get("size") if isinstance(item.get("size"), int) else None,
                    url=None if item.get("withheld") else _file_link(item),
                    withheld=bool(item.get("withheld")),
                )
            )
    return found


def _file_link(item: dict[str, Any]) -> str | None:
    """A presigned GET of the attachment's file, like the WhatsApp inbox's media links, as the
    inbound email code makes it (a download, never shown inline on the bucket's origin): by the
    S3 key the item names, else by its MediaFiles record."""
    if not item.get("s3Key") and item.get("fileId"):
        try:
            item = {**item, "s3Key": MediaFile.get(str(item["fileId"])).s3Key}
        except MediaFile.DoesNotExist:
            return None
    return email_attachments.link(item)


def failure(message: Message) -> str | None:
    """Why a message failed or was refused, as the provider or the gate said it."""
    if message.status not in ("failed", "refused"):
        return None
    details = message.errorDetails or {}
    return str(details.get("message") or details.get("code") or message.status)
