"""What an operator does in an SMS or email conversation: mark it read, archive it, reply through
the one send path (gate, rate limits, DRY_RUN), the reply landing in the same conversation.
Reads are in ``messaging.inbox.thread_queries``; docs/design/inbox.md.
"""

from __future__ import annotations

from typing import Any

from messaging import email_threads
from messaging.channels import RULES, Channel, allowed_senders, default_sender
from messaging.conversation_index import key_for_thread
from messaging.inbox import index_read
from messaging.inbox.thread_queries import contact_for
from messaging.models import Message
from messaging.outbound import send
from messaging.threads import Thread
from wecare import audit
from wecare.dynamo import update_if
from wecare.errors import FieldErrors, NotFound

MAX_SUBJECT = send.MAX_SUBJECT


def mark_read(thread: Thread, *, seen_last_at: str, user: Any) -> bool:
    """The person has seen the conversation as it was at ``seen_last_at``: its unread count goes
    to 0, unless a message arrived after the page was drawn (then it stays unread)."""
    if int(thread.unreadCount or 0) == 0:
        return False
    done = update_if(
        thread,
        actions=[Thread.unreadCount.set(0)],
        condition=(Thread.lastAt == seen_last_at) & (Thread.unreadCount > 0),
    )
    if done:
        audit.record(user, "conversation.read", "thread", thread.threadId)
        # The thread's lastAt is stamped after its message's time, so it bounds the index's lastAt.
        index_read.mark_read(key_for_thread(thread.threadId), up_to=seen_last_at)
    return done


def set_archived(thread: Thread, archived: bool, *, user: Any) -> Thread:
    thread.update(actions=[Thread.archived.set(archived)], condition=Thread.threadId.exists())
    audit.record(user, "conversation.archive" if archived else "conversation.unarchive", "thread", thread.threadId)
    return thread


def reply_sender(thread: Thread) -> str | None:
    """Who a reply goes from: the number or address the customer wrote to when it is on the
    allowlist, else the channel's default sender (the SMS pool, the SES sender address). A pool
    picks its number per message, so from the pool the customer may see another number."""
    channel = Channel(thread.channel)
    return thread.business if thread.business in allowed_senders(channel) else default_sender(channel)


def reply_subject(thread: Thread, subject: str | None = None) -> str:
    """An email reply's subject: the one given, else "Re: " and the conversation's."""
    if subject and subject.strip():
        return subject.strip()
    return email_threads.reply_subject(thread.subject)[:MAX_SUBJECT]


def reply(thread: Thread, *, text: str, subject: str | None = None, user: Any) -> Message:
    """Send ``text`` to the conversation's customer, in the conversation, through the one send
    path: the gate's refusals come back as ``send.Refused``, bad input as ``FieldErrors``."""
    if not (text or "").strip():
        raise FieldErrors({"text": "write a message"})
    contact = contact_for(thread)
    if contact is None:
        raise NotFound(f"no live contact is {thread.customer}")
    address = RULES[Channel(thread.channel)].address(contact) or ""
    if address.casefold() != thread.customer.casefold():
        # The send path sends to the contact's address: a number or address changed since the
        # conversation began would take the reply to someone this conversation is not with.
        what = "number" if thread.channel == "sms" else "address"
        now_is = address or "not set"
        raise FieldErrors(
            {"contact": f"the contact's {what} is now {now_is}, not {thread.customer}: write from their page"}
        )
    request: dict[str, Any] = {
        "contactId": contact.contactId,
        "channel": thread.channel,
        "sender": reply_sender(thread),
        "text": text,
    }
    if thread.channel == "email":
        # Its In-Reply-To and References are added by the send path, from the thread (at send time).
        request["subject"] = reply_subject(thread, subject)
    return send.send_message(request, user=user, source="inbox", thread_id=thread.threadId)
