"""The inbox item's unread count follows a conversation marked read: once the source item's count
went to 0 (WhatsApp's ``CONV#``, an SMS or email ``Thread``), the ``InboxConversation`` of the same
conversation goes to 0 too, unless a message arrived after what the person saw. docs/design/inbox.md,
"Reading, marking read".
"""

from __future__ import annotations

from messaging.conversation_index import InboxConversation
from wecare.dynamo import update_if


def mark_read(key: str, *, up_to: str) -> bool:
    """Set the item's unread count to 0 while its last message is not newer than ``up_to`` (the
    ISO time of the newest message the person saw): a later message keeps it unread."""
    item = InboxConversation(key=key)
    return update_if(
        item,
        actions=[InboxConversation.unreadCount.set(0)],
        condition=(InboxConversation.unreadCount > 0) & (InboxConversation.lastAt <= up_to),
    )
