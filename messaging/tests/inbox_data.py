"""Conversation and message items written as the table contract defines them (CONV#, MSG#,
inboxPk, conversationPk, ISO receivedAt, unreadCount), for inbox tests that need a given state
(a failed outbound message, a document with a stored file…) rather than a delivered event."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from ulid import ULID

from messaging.conversation_index import InboxConversation, Status, key_for_whatsapp, record_actions
from messaging.inbox import queries as inbox_queries
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.dynamo import now


def iso(minutes_ago: float = 0) -> str:
    return (now() - timedelta(minutes=minutes_ago)).isoformat()


def conversation(
    phone: str,
    *,
    number: str | None = None,
    unread: int = 0,
    archived: bool = False,
    minutes_ago: float = 0,
    last_pk: str | None = None,
) -> WaConversation:
    number = number or settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    item = WaConversation(
        pk=WaConversation.key(inbox_queries.suffix(number), phone),
        inboxPk=inbox_queries.inbox_key(number),
        from_=phone,
        receivedAt=iso(minutes_ago),
        originationPhoneNumberId=number,
        lastMessagePk=last_pk,
        lastPreview="hello",
        lastType="text",
        unreadCount=unread,
        archived=archived,
    )
    item.save()
    # The inbox lists conversations from their InboxConversations item, which recording writes.
    InboxConversation(
        key=key_for_whatsapp(item.pk),
        channel="whatsapp",
        business=number,
        customer=phone,
        lastAt=item.receivedAt,
        lastPreview="hello",
        lastDirection="inbound",
        lastType="text",
        unreadCount=unread,
        status=Status.RESOLVED.value if archived else Status.OPEN.value,
    ).save()
    return item


def message(
    conv: WaConversation,
    *,
    direction: str = "INBOUND",
    kind: str = "text",
    text: str | None = "hello",
    minutes_ago: float = 0,
    **fields,
) -> WaMessage:
    wamid = f"wamid.test{ULID()}"
    item = WaMessage(
        pk=WaMessage.key(wamid),
        direction=direction,
        receivedAt=iso(minutes_ago),
        conversationPk=conv.pk,
        originationPhoneNumberId=conv.originationPhoneNumberId,
        type=kind,
        textBody=text,
        preview=(text or kind)[:100],
        **fields,
    )
    if direction == "INBOUND":
        item.from_ = conv.from_
    else:
        item.to = conv.from_
    item.save()
    return item


def inbound(conv: WaConversation, text: str = "hello", *, minutes_ago: float = 0, **fields) -> WaMessage:
    """An inbound message as inbound processing records it: the MSG# item, then the conversation
    moved to the top with one more unread."""
    item = message(conv, text=text, minutes_ago=minutes_ago, **fields)
    conv.update(
        actions=[
            WaConversation.unreadCount.add(1),
            WaConversation.receivedAt.set(item.receivedAt),
            WaConversation.lastMessagePk.set(item.pk),
            WaConversation.lastPreview.set(item.preview),
            WaConversation.lastType.set(item.type),
        ]
    )
    InboxConversation(key=key_for_whatsapp(conv.pk)).update(
        actions=record_actions(
            channel="whatsapp",
            business=conv.originationPhoneNumberId or "",
            customer=conv.from_ or "",
            contact=None,
            preview=item.preview or "",
            direction="inbound",
            at=item.receivedAt or "",
            kind=item.type or "text",
        )
    )
    return item
