"""Which emails carry a one-click unsubscribe, and its headers (RFC 2369 and RFC 8058, as Gmail's
and Yahoo's bulk-sender rules ask of marketing mail). docs/design/email-feedback.md says which and
why.
"""

from __future__ import annotations

from contacts import unsubscribe
from messaging.models import Message


def is_marketing(message: Message) -> bool:
    """An email sent to many at once: every bulk email. One written to one customer (compose, a
    reply in a conversation) is correspondence, not a mailing list, and carries no list headers."""
    return message.channel == "email" and bool(message.bulkJobId)


def headers_for(message: Message) -> dict[str, str]:
    """The headers a marketing email carries; none for any other message. The link is https only:
    no address of ours handles unsubscribe mail, and a mailto nobody reads would be a broken promise.
    ValueError when SITE_URL is not set (the link would point nowhere)."""
    if not is_marketing(message):
        return {}
    link = unsubscribe.url(message.contactId, "email", message_id=message.messageId)
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
