"""The team inbox's list of conversations on every channel: one ``InboxConversation`` item per
conversation, whichever table its messages live in (WhatsApp's ``CONV#`` items in the single
table, SMS and email ``Thread`` items). docs/design/inbox.md, "One inbox for every channel".

The item is the inbox's read model and the home of what staff do with a conversation (status,
assignee, labels): the source items keep the layout their contracts fix, and the inbox reads one
table through one index whatever the channel. Writers add ``record_actions`` to the transaction
that records the message, so the counters move exactly once per message, as the source item's do.

Keys are what the inbox's URLs carry: the channel, then the conversation's own key with ``~`` for
``#`` (``whatsapp~<number suffix>~<customer>``, ``sms~<business>~<customer>``, ``email~<ULID>``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from contacts.models import Contact
from messaging import search_index, signals
from wecare.dynamo import DynamoModel, Transaction, meta, register, string_index

PREVIEW_CHARS = 160
SYSTEM_ACTOR = "system"  # what audit.actor_id records for the platform's own sends


class Status(StrEnum):
    OPEN = "open"  # needs the team
    PENDING = "pending"  # waiting on the customer or a colleague; back to open when they write
    RESOLVED = "resolved"  # done; a new message from the customer opens it again


StatusIndex = string_index("status-lastAt-index", "status", "lastAt")
AssigneeIndex = string_index("assignee-lastAt-index", "assignee", "lastAt")


@register
class InboxConversation(DynamoModel):
    """One conversation as the inbox lists it. ``status`` + ``lastAt`` list every conversation in a
    status, newest first; ``assignee`` + ``lastAt`` one person's (sparse: unassigned ones are not in
    that index)."""

    Meta = meta("InboxConversations")
    key = UnicodeAttribute(hash_key=True)
    channel = UnicodeAttribute()  # whatsapp | sms | email
    business = UnicodeAttribute()  # WhatsApp: phone-number-id; SMS: E.164; email: our address
    customer = UnicodeAttribute()  # E.164, a WhatsApp user id, or an email address
    contactId = UnicodeAttribute(null=True)
    contactName = UnicodeAttribute(null=True)  # as the contact was named at the last message
    subject = UnicodeAttribute(null=True)  # email: the thread's first subject
    lastAt = UnicodeAttribute()  # ISO time of the last message either way (index range key)
    lastPreview = UnicodeAttribute(null=True)
    lastDirection = UnicodeAttribute(null=True)  # inbound | outbound
    lastType = UnicodeAttribute(null=True)  # text, image, template…
    lastBy = UnicodeAttribute(null=True)  # outbound: the username that sent it, or "system"
    # The oldest customer message no person has answered since: how long they have waited.
    waitingSince = UnicodeAttribute(null=True)
    unreadCount = NumberAttribute(default=0)
    status = UnicodeAttribute(default=Status.OPEN.value)
    statusAt = UnicodeAttribute(null=True)
    statusBy = UnicodeAttribute(null=True)
    assignee = UnicodeAttribute(null=True)  # a username
    assignedAt = UnicodeAttribute(null=True)
    assignedBy = UnicodeAttribute(null=True)
    labels = UnicodeSetAttribute(null=True)
    createdAt = UnicodeAttribute(null=True)

    by_status = StatusIndex()
    by_assignee = AssigneeIndex()


# --- keys ----------------------------------------------------------------------------------


def key_for_whatsapp(conversation_pk: str) -> str:
    """``CONV#<suffix>#<customer>`` (or the old inbox's ``<suffix>~<customer>``) ->
    ``whatsapp~<suffix>~<customer>``."""
    return "whatsapp~" + conversation_pk.removeprefix("CONV#").replace("#", "~")


def key_for_thread(thread_id: str) -> str:
    """``sms#<business>#<customer>`` / ``email#<ULID>`` -> ``sms~…`` / ``email~…``."""
    return thread_id.replace("#", "~")


def channel_of(key: str) -> str:
    return key.split("~", 1)[0]


def source_key(key: str) -> str:
    """The key of the item the messages hang from: the WhatsApp ``CONV#`` pk or the thread id."""
    channel, rest = key.split("~", 1)
    if channel == "whatsapp":
        return "CONV#" + rest.replace("~", "#")
    return f"{channel}#{rest.replace('~', '#')}"


# --- writes in the message's own transaction ------------------------------------------------


def update_in(tx: Transaction, key: str, *, search_text: str | None = None, **message: Any) -> None:
    """Add one message to the conversation's inbox item inside ``tx``, the transaction that records
    the message (labelled ``inbox``); ``message`` as ``record_actions`` takes it.

    Once the transaction commits, the message's words go to the inbox search's index
    (``search_index``): ``search_text`` when the writer has more than the preview."""
    tx.update(InboxConversation(key=key), actions=record_actions(**message), label="inbox")
    contact: Contact | None = message.get("contact")
    text = " ".join(filter(None, [message.get("subject"), search_text or message["preview"]]))
    tx.after_commit(
        lambda: search_index.index_later(
            key, message["at"], text, name=contact.name if contact else None, customer=message["customer"]
        )
    )
    tx.after_commit(
        lambda: signals.announce(
            signals.conversation_message,
            conversation=key,
            direction=message["direction"],
            by=message.get("by"),
            at=message["at"],
        )
    )


def record_actions(
    *,
    channel: str,
    business: str,
    customer: str,
    contact: Contact | None,
    preview: str,
    direction: str,
    at: str,
    kind: str = "text",
    subject: str | None = None,
    by: str | None = None,
    contact_id: str | None = None,
) -> list[Any]:
    """The update actions that add one message to the conversation's inbox item (creating it the
    first time): give them to ``tx.update(InboxConversation(key=...), actions=...)``.

    A customer's message makes the conversation unread and open (a resolved or pending one comes
    back) and starts the wait if nobody was waiting on us yet. A person's reply ends the wait; the
    platform's own sends (``by`` = ``system``: auto-replies, confirmations) do not, since nobody
    has answered the customer yet.
    """
    I = InboxConversation  # noqa: E741 - the attribute paths read better short
    actions: list[Any] = [
        I.channel.set(channel),
        I.business.set(business),
        I.customer.set(customer),
        I.lastAt.set(at),
        I.lastPreview.set(preview[:PREVIEW_CHARS]),
        I.lastDirection.set(direction),
        I.lastType.set(kind),
        I.createdAt.set(I.createdAt | at),  # if_not_exists: kept from the first message
    ]
    if contact is not None:
        actions.append(I.contactId.set(contact.contactId))
        if contact.name:
            actions.append(I.contactName.set(contact.name))
    elif contact_id:  # a send knows its contact's id; the name stays as a message recorded it
        actions.append(I.contactId.set(contact_id))
    if subject:
        actions.append(I.subject.set(I.subject | subject))
    if direction == "inbound":
        actions += [
            I.unreadCount.add(1),
            I.status.set(Status.OPEN.value),
            I.waitingSince.set(I.waitingSince | at),
        ]
    else:
        # Sending does not change what the team decided about the conversation; a first message
        # from us opens it.
        actions += [I.status.set(I.status | Status.OPEN.value), I.unreadCount.set(I.unreadCount | 0)]
        # Who sent it: the inbox warns a person whose colleague replied while they were writing.
        actions.append(I.lastBy.set(by or SYSTEM_ACTOR))
        if by and by != SYSTEM_ACTOR:
            actions.append(I.waitingSince.remove())
    return actions
