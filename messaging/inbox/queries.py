"""The team inbox's reads: conversations and timelines from the WhatsApp single table, the
conversation slugs of its URLs, and what a page shows about a message (media link, failure).
The things an operator does there are in ``messaging.inbox.actions``.

Reads go through the single table's GSIs: ``inboxPk-receivedAt`` lists a business number's
conversations newest first, ``conversationPk-receivedAt`` a conversation's messages. Inbound
processing writes those items; the inbox only reads them and changes ``unreadCount``,
``archived`` and ``markedAsRead``.

A conversation's URL names it by its key without the ``CONV#`` prefix, with ``~`` for ``#``
(``baa217…~+919812345678``): ``#`` cannot travel in a URL path. A customer WhatsApp names only
by a business-scoped user id has that id where the number would be (``baa217…~US.1349…``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from contacts.models import Contact
from contacts.queries import find_live_by_phone, find_live_by_whatsapp_user
from contacts.validation import WHATSAPP_USER_ID, whatsapp_user_id
from messaging.inbox import paging
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.aws import client
from wecare.dynamo import Cursor
from wecare.errors import NotFound

log = logging.getLogger("messaging.inbox")

PAGE_SIZE = 30
MAX_PAGE = 100
MEDIA_LINK_SECONDS = 300  # long enough to open the file, short enough that a copied link dies

# The business number's suffix, "~", then the customer: a number, or a WhatsApp user id as
# contacts.validation spells it.
SLUG = re.compile(rf"^[A-Za-z0-9]{{1,64}}~(\+?[0-9]{{4,20}}|{WHATSAPP_USER_ID.pattern})$")


# --- names ---------------------------------------------------------------------------------


def slug(conversation_pk: str) -> str:
    return conversation_pk.removeprefix("CONV#").replace("#", "~")


def conversation_pk(conversation_slug: str) -> str:
    if not SLUG.match(conversation_slug):
        raise NotFound(f"no conversation {conversation_slug}")
    return "CONV#" + conversation_slug.replace("~", "#")


def numbers() -> list[str]:
    """The business numbers with an inbox: the WhatsApp allowlist, in its configured order."""
    return list(settings.WHATSAPP_PHONE_NUMBER_IDS)


def inbox_key(number: str) -> str:
    """The ``inboxPk`` of a business number's conversations: its originationPhoneNumberId
    (``phone-number-id-<suffix>``), the id replies are sent from."""
    return number


def suffix(number: str) -> str:
    return number.rsplit("-", 1)[-1]


def customer(conversation: WaConversation) -> str:
    """Whom the conversation is with, as a person reads it: the number in E.164 (whether the item
    stores it with a ``+`` or as a wa_id), or the business-scoped user id."""
    raw = conversation.from_ or conversation.pk.rsplit("#", 1)[-1]
    return raw if raw.startswith("+") or whatsapp_user_id(raw) else f"+{raw}"


def customer_phone(conversation: WaConversation) -> str | None:
    """The customer's number in E.164; None when WhatsApp named them only by a user id."""
    who = customer(conversation)
    return None if whatsapp_user_id(who) else who


# --- reads ---------------------------------------------------------------------------------


@dataclass
class ConversationPage:
    items: list[WaConversation]
    next_cursor: str | None


def list_conversations(
    number: str, *, archived: bool = False, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ConversationPage:
    """A number's conversations, newest first, archived or not.

    The archived flag is a filter (the GSI's key is the number), so one read can come back short;
    further reads ask for only what is still missing, which keeps the cursor exactly after the
    last item returned. After ``paging.MAX_QUERIES_PER_PAGE`` reads the page ends short, with a cursor.
    """
    if number not in numbers():
        raise NotFound(f"{number} is not an allowlisted WhatsApp number")
    # DynamoDB conditions, not Python comparisons: a PynamoDB attribute's == builds a filter.
    if archived:
        wanted = WaConversation.archived == True  # noqa: E712
    else:
        wanted = WaConversation.archived.does_not_exist() | (WaConversation.archived == False)  # noqa: E712
    items, key = paging.filled(
        lambda left, start: WaConversation.inbox_index.query(
            inbox_key(number), scan_index_forward=False, filter_condition=wanted, limit=left, last_evaluated_key=start
        ),
        limit,
        Cursor.decode(cursor, scope=f"inbox:{number}"),
        WaConversation,
    )
    return ConversationPage(items, Cursor.encode(key, scope=f"inbox:{number}"))


def get_conversation(conversation_slug: str) -> WaConversation:
    try:
        conversation = WaConversation.get(conversation_pk(conversation_slug), consistent_read=True)
    except WaConversation.DoesNotExist:
        raise NotFound(f"no conversation {conversation_slug}") from None
    if not isinstance(conversation, WaConversation):
        raise NotFound(f"no conversation {conversation_slug}")
    return conversation


@dataclass
class Timeline:
    items: list[WaMessage]  # oldest first, as a timeline reads
    older_cursor: str | None


def timeline(
    conversation: WaConversation, *, cursor: str | None = None, since: str | None = None, limit: int = PAGE_SIZE
) -> Timeline:
    """A conversation's messages. Without ``since``: the newest page (or the page before
    ``cursor``). With ``since``: everything from that receivedAt on, so a live view that has
    grown past one page never loses a message off its top."""
    index = WaMessage.conversation_index
    scope = f"timeline:{conversation.pk}"
    if since:
        results = index.query(conversation.pk, WaMessage.receivedAt >= since, scan_index_forward=False, limit=MAX_PAGE)
        items = [m for m in results if isinstance(m, WaMessage)]
        return Timeline(list(reversed(items)), Cursor.encode(results.last_evaluated_key, scope=scope))
    results = index.query(
        conversation.pk, scan_index_forward=False, limit=limit, last_evaluated_key=Cursor.decode(cursor, scope=scope)
    )
    items = [m for m in results if isinstance(m, WaMessage)]
    return Timeline(list(reversed(items)), Cursor.encode(results.last_evaluated_key, scope=scope))


def digest(parts: list[Any]) -> str:
    """A short fingerprint of what a fragment shows, so a poll that would redraw the same thing
    answers 204 and the browser leaves the page alone."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()[:16]


def list_digest(page: ConversationPage) -> str:
    return digest([(c.pk, c.receivedAt, int(c.unreadCount or 0), bool(c.archived), c.lastPreview) for c in page.items])


def timeline_digest(view: Timeline) -> str:
    return digest([(m.pk, m.deliveryStatus, m.reactedWithEmoji, m.s3Key) for m in view.items])


def contact_for(conversation: WaConversation) -> Contact | None:
    """The live contact the conversation is with: found by the identity that keys it, else by
    the other one the conversation knows (a number removed from the contact by a person, a
    conversation keyed by a user id whose contact now has a number…; docs/design/inbound.md)."""
    known = dict.fromkeys(
        who for who in (customer(conversation), conversation.customerPhone, conversation.customerUserId) if who
    )
    return next((contact for who in known if (contact := _live_contact(who)) is not None), None)


def _live_contact(who: str) -> Contact | None:
    """The live contact holding this number or business-scoped user id."""
    return find_live_by_whatsapp_user(who) if whatsapp_user_id(who) else find_live_by_phone(who)


def media_link(message: WaMessage) -> str | None:
    """A short-lived link to the message's file in our (private) media bucket; None when the
    message has no stored file (not media, or the download has not finished)."""
    if not message.s3Key:
        return None
    return client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": message.s3Bucket or settings.MEDIA_BUCKET, "Key": message.s3Key},
        ExpiresIn=MEDIA_LINK_SECONDS,
    )


def failure_reason(message: WaMessage) -> str | None:
    """Meta's reason for a failed outbound message: the error the status update stored on the
    item, else the latest 'failed' entry of its history."""
    if message.deliveryStatus != "failed":
        return None
    if message.errorCode is not None or message.errorTitle:
        return ": ".join(
            str(part)
            for part in (int(message.errorCode) if message.errorCode is not None else None, message.errorTitle)
            if part
        )
    for change in reversed(message.deliveryStatusHistory or []):
        if isinstance(change, dict) and change.get("status") == "failed":
            errors = change.get("errors") or ([change["error"]] if change.get("error") else [])
            for error in errors:
                if isinstance(error, dict) and (error.get("code") or error.get("title")):
                    return ": ".join(str(part) for part in (error.get("code"), error.get("title")) if part)
            break
    return "failed (no reason given)"


# --- actions -------------------------------------------------------------------------------


def has_unread(conversation: WaConversation, shown: list[WaMessage]) -> bool:
    """Whether marking ``shown`` read would change anything."""
    return int(conversation.unreadCount or 0) > 0 or any(m.direction == "INBOUND" and not m.markedAsRead for m in shown)
