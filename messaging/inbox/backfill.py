"""The inbox's conversation items for conversations recorded before the one inbox existed: one per
WhatsApp ``CONV#`` item and per SMS or email ``Thread``, from what those items hold; an archived
conversation becomes resolved. docs/design/inbox.md, "One inbox for every channel".
"""

from __future__ import annotations

from collections import Counter

from pynamodb.exceptions import PutError

from messaging.conversation_index import InboxConversation, Status, key_for_thread, key_for_whatsapp
from messaging.threads import Thread
from messaging.whatsapp_table import WaConversation, WhatsAppItem


def backfill(*, dry_run: bool = False) -> Counter[str]:
    """Counts: "written" items, "present" conversations the inbox already had. Safe to run again:
    an item that exists (written by a message since) is never overwritten."""
    counts: Counter[str] = Counter()
    for item in _whatsapp_conversations():
        _put(_from_whatsapp(item), counts, dry_run=dry_run)
    for thread in Thread.scan():
        _put(_from_thread(thread), counts, dry_run=dry_run)
    return counts


def _whatsapp_conversations():
    for item in WhatsAppItem.scan(WhatsAppItem.itemType == WaConversation):
        if isinstance(item, WaConversation):
            yield item


def _from_whatsapp(c: WaConversation) -> InboxConversation:
    return InboxConversation(
        key=key_for_whatsapp(c.pk),
        channel="whatsapp",
        business=c.inboxPk or c.originationPhoneNumberId or "",
        customer=c.pk.rsplit("#", 1)[-1],  # the identity that keys the conversation
        lastAt=c.receivedAt or "",
        lastPreview=c.lastPreview,
        lastDirection="inbound",  # the CONV# item only ever recorded the customer's messages
        lastType=c.lastType,
        unreadCount=int(c.unreadCount or 0),
        status=(Status.RESOLVED if c.archived else Status.OPEN).value,
        createdAt=c.receivedAt,
    )


def _from_thread(t: Thread) -> InboxConversation:
    return InboxConversation(
        key=key_for_thread(t.threadId),
        channel=t.channel,
        business=t.business,
        customer=t.customer,
        contactId=t.contactId,
        subject=t.subject,
        lastAt=t.lastAt,
        lastPreview=t.lastPreview,
        lastDirection=t.lastDirection,
        unreadCount=int(t.unreadCount or 0),
        status=(Status.RESOLVED if t.archived else Status.OPEN).value,
        createdAt=t.createdAt,
    )


def _put(item: InboxConversation, counts: Counter[str], *, dry_run: bool) -> None:
    if dry_run:
        counts["written" if not _exists(item.key) else "present"] += 1
        return
    try:
        item.save(condition=InboxConversation.key.does_not_exist())
    except PutError:
        counts["present"] += 1
        return
    counts["written"] += 1


def _exists(key: str) -> bool:
    try:
        InboxConversation.get(key, attributes_to_get=["key"])
    except InboxConversation.DoesNotExist:
        return False
    return True
