"""Conversations on SMS and email: one ``Thread`` item per conversation, and the Messages items
of its messages carry its ``threadId`` (WhatsApp's conversations are the single table's ``CONV#``
items, in that table's fixed layout). docs/design/inbound.md, "SMS and email conversations".

An SMS conversation is one customer number with one business number: its id is made of the
two, so both directions find it without a lookup. An email conversation is a thread (Message-ID,
In-Reply-To, References): its id is a new ULID, and the inbound email code keeps the header
ids that lead to it.

Writers add the thread's update to the transaction that records the message (``record_actions``),
so the counters move exactly once per message, as they do for WhatsApp.

``EmailMessageId`` is the email threads' lookup: each Message-ID we know (a customer's mail, our
own sent mail) to its thread and message, and the SES receipt id of each recorded inbound mail
(its idempotency key). ``messaging/email_threads.py`` reads and writes it; docs/design/email.md.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from ulid import ULID

from wecare.dynamo import DynamoModel, meta, now, register, string_index

PREVIEW_CHARS = 160

ThreadInboxIndex = string_index("inboxKey-lastAt-index", "inboxKey", "lastAt")


@register
class Thread(DynamoModel):
    """One SMS or email conversation. ``inboxKey`` + ``lastAt`` list a business number's (or
    sender address's) conversations, newest first."""

    Meta = meta("Threads")
    threadId = UnicodeAttribute(hash_key=True)  # "sms#<business>#<customer>" | "email#<ULID>"
    channel = UnicodeAttribute()  # sms | email
    inboxKey = UnicodeAttribute()  # "<channel>#<business number or address>"
    lastAt = UnicodeAttribute()  # ISO time the last message was recorded (index range key)
    business = UnicodeAttribute()  # the business number (E.164) or sender address it is with
    customer = UnicodeAttribute()  # the customer's number (E.164) or email address
    contactId = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)  # email only: the thread's first subject
    lastPreview = UnicodeAttribute(null=True)
    lastDirection = UnicodeAttribute(null=True)  # inbound | outbound
    unreadCount = NumberAttribute(default=0)  # inbound messages since an operator last read it
    messageCount = NumberAttribute(default=0)
    createdAt = UnicodeAttribute(null=True)
    archived = BooleanAttribute(default=False)

    by_inbox = ThreadInboxIndex()


def inbox_key(channel: str, business: str) -> str:
    return f"{channel}#{business}"


def sms_thread_id(business_number: str, customer_number: str) -> str:
    return f"sms#{business_number}#{customer_number}"


def new_email_thread_id() -> str:
    return f"email#{ULID()}"


def record_actions(
    *,
    channel: str,
    business: str,
    customer: str,
    contact_id: str | None,
    preview: str,
    direction: str,
    subject: str | None = None,
) -> list[Any]:
    """The update actions that add one message to a thread (creating it the first time): give
    them to ``tx.update(Thread(threadId=...), actions=...)`` in the message's own transaction."""
    at = now().isoformat()
    actions: list[Any] = [
        Thread.channel.set(channel),
        Thread.inboxKey.set(inbox_key(channel, business)),
        Thread.lastAt.set(at),
        Thread.business.set(business),
        Thread.customer.set(customer),
        Thread.createdAt.set(Thread.createdAt | at),  # if_not_exists: kept from the first message
        Thread.lastPreview.set(preview[:PREVIEW_CHARS]),
        Thread.lastDirection.set(direction),
        Thread.messageCount.add(1),
    ]
    if contact_id:
        actions.append(Thread.contactId.set(contact_id))
    if subject:
        actions.append(Thread.subject.set(Thread.subject | subject))  # the first subject names it
    if direction == "inbound":
        # A customer writing again brings an archived conversation back, as on WhatsApp.
        actions += [Thread.unreadCount.add(1), Thread.archived.set(False)]
    return actions


@register
class EmailMessageId(DynamoModel):
    """``id#<Message-ID>`` (the header's id without its angle brackets; ours, which SES makes
    ``<SES MessageId>@<region's amazonses.com domain>``, as ``ses#<SES MessageId>``) -> the thread
    and message; ``received#<SES receipt messageId>`` -> the message recorded from that mail,
    written with a does-not-exist condition so one mail is recorded once. Kept as long as messages."""

    Meta = meta("EmailMessageIds")
    key = UnicodeAttribute(hash_key=True)
    threadId = UnicodeAttribute()
    messageId = UnicodeAttribute()
    expiresAt = TTLAttribute()
