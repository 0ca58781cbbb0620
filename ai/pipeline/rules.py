"""Whether a message gets a draft at all. Automation off: nothing is written (the listener never
queues the task). Otherwise a message is skipped, with its reason recorded, when it has no text (a
caption counts), when it was a STOP or the customer's consent history shows they withdrew on
WhatsApp, or when a person already answered. A contact who never consented still gets a draft: the
gate decides at send time. docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

from contacts.queries import consent_history
from messaging.conversation_index import SYSTEM_ACTOR, InboxConversation
from messaging.whatsapp_table import WaMessage


class Skip:
    """The reasons, as stored in an interaction's statusReason."""

    NOT_TEXT = "not_text"
    OPTED_OUT = "opted_out"  # the message was the customer's STOP (or its button)
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PERSON_REPLIED = "person_replied"
    NEWER_MESSAGE = "newer_message"  # stored as superseded: the customer wrote again before we began


def text_of(message: WaMessage) -> str:
    return (message.textBody or message.caption or "").strip()


def withdrew(contact_id: str | None) -> bool:
    """The contact's newest WhatsApp consent event is a withdrawal (by them, a person or a provider).
    Never having consented is not withdrawing."""
    if not contact_id:
        return False
    events = consent_history(contact_id, "whatsapp")
    return bool(events) and not events[0].optedIn


def conversation_after(conversation: str, received_at: str) -> str | None:
    """What happened in the conversation since the message came in (read now, consistently)."""
    try:
        item = InboxConversation.get(conversation, consistent_read=True)
    except InboxConversation.DoesNotExist:
        return None
    return moved_on(item, received_at)


def moved_on(item: InboxConversation | None, received_at: str) -> str | None:
    """PERSON_REPLIED when a person sent something in the conversation ``item`` after the message
    came in, NEWER_MESSAGE when the customer wrote again; else None."""
    if item is None or not item.lastAt or item.lastAt <= received_at:
        return None
    if item.lastDirection == "outbound":
        return Skip.PERSON_REPLIED if item.lastBy and item.lastBy != SYSTEM_ACTOR else None
    return Skip.NEWER_MESSAGE


def skip_reason(
    message: WaMessage, conversation_item: InboxConversation | None, consent_signal: str | None
) -> str | None:
    """Why the message gets no draft, or None. ``conversation_item`` is its conversation as read
    (consistently) with the message, so the check costs no read of its own."""
    if not text_of(message):
        return Skip.NOT_TEXT
    if consent_signal == "opt_out":
        return Skip.OPTED_OUT
    if withdrew(message.contactId):
        return Skip.CONSENT_WITHDRAWN
    return moved_on(conversation_item, message.receivedAt or "")
