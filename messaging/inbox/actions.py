"""What an operator does in the team inbox: mark a conversation read (and tell WhatsApp), archive
it, reply through the one send path, record the customer's consent. Reads are in
``messaging.inbox.queries``."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings

from contacts import actions as contact_actions
from contacts.models import Contact
from messaging.conversation_index import key_for_whatsapp
from messaging.inbox import index_read
from messaging.inbox.queries import contact_for, customer, numbers, suffix
from messaging.models import Message
from messaging.outbound import send
from messaging.outbound.senders import provider_client
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare import audit
from wecare.dynamo import update_if
from wecare.errors import FieldErrors, NotFound

log = logging.getLogger("messaging.inbox")

MAX_NOTE = 500


def mark_read(conversation: WaConversation, shown: list[WaMessage], *, user: Any) -> int:
    """The person has now seen ``shown``: mark those inbound messages read and, if the newest
    message of the conversation is among them, set its unread count to 0.

    Both are conditional updates, so a message that arrived after the page was read keeps the
    conversation unread, and two people opening it at once send one read receipt, not two.
    Returns how many messages this call marked.
    """
    shown_pks = [m.pk for m in shown]
    if shown_pks and int(conversation.unreadCount or 0) > 0:
        newest_seen = WaConversation.lastMessagePk.does_not_exist() | WaConversation.lastMessagePk.is_in(*shown_pks)
        if update_if(
            conversation,
            actions=[WaConversation.unreadCount.set(0)],
            condition=newest_seen & (WaConversation.unreadCount > 0),
        ):
            audit.record(user, "conversation.read", "conversation", conversation.pk)
            index_read.mark_read(key_for_whatsapp(conversation.pk), up_to=max(m.receivedAt or "" for m in shown))
    newly_marked = [m for m in shown if m.direction == "INBOUND" and not m.markedAsRead and _mark_message(m)]
    if newly_marked:
        # WhatsApp treats a read receipt as covering every earlier message of the chat, so one
        # receipt, for the newest message marked, tells the customer all of them were read.
        send_read_receipt(conversation, newly_marked[-1])
    return len(newly_marked)


def _mark_message(message: WaMessage) -> bool:
    not_yet = WaMessage.markedAsRead.does_not_exist() | (WaMessage.markedAsRead == False)  # noqa: E712 - a DynamoDB condition
    return update_if(message, actions=[WaMessage.markedAsRead.set(True)], condition=not_yet)


def send_read_receipt(conversation: WaConversation, message: WaMessage) -> bool:
    """Tell WhatsApp the business read ``message`` (blue ticks on the customer's phone).

    In DRY_RUN the stand-in client records and validates the call without sending. A failure is
    logged and never breaks the page: the message is read here either way."""
    wamid = message.pk.removeprefix("MSG#")
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    number = message.originationPhoneNumberId or conversation.originationPhoneNumberId
    params = {
        "originationPhoneNumberId": number,
        "message": json.dumps(body).encode(),
        "metaApiVersion": settings.META_API_VERSION,
    }
    try:
        provider_client("socialmessaging").send_whatsapp_message(**params)
    except Exception as exc:  # noqa: BLE001 - any failure here is logged, never shown as a broken page
        log.warning(
            "read receipt failed",
            extra={"wa_message_id": wamid, "error": str(exc), "permanent": getattr(exc, "permanent", None)},
        )
        return False
    log.info("read receipt sent", extra={"wa_message_id": wamid, "send_mode": settings.SEND_MODE})
    return True


def set_archived(conversation: WaConversation, archived: bool, *, user: Any) -> WaConversation:
    conversation.update(actions=[WaConversation.archived.set(archived)], condition=WaConversation.pk.exists())
    audit.record(
        user, "conversation.archive" if archived else "conversation.unarchive", "conversation", conversation.pk
    )
    return conversation


def reply(conversation: WaConversation, data: dict[str, Any], *, user: Any) -> Message:
    """Send from the conversation's business number to its customer, through the one send path
    (so the gate's refusals, e.g. TEMPLATE_REQUIRED outside the 24-hour window, come back as
    ``send.Refused``). ``data`` holds either ``text`` or ``template``."""
    contact = contact_for(conversation)
    if contact is None:
        raise NotFound(f"no live contact is {customer(conversation)}")
    request = {
        "contactId": contact.contactId,
        "channel": "whatsapp",
        "sender": conversation.originationPhoneNumberId or _number_of(conversation),
    }
    request.update({k: v for k, v in data.items() if k in ("text", "template") and v})
    return send.send_message(request, user=user, source="inbox")


def _number_of(conversation: WaConversation) -> str | None:
    part = conversation.pk.split("#")[1]
    return next((n for n in numbers() if suffix(n) == part), None)


def record_whatsapp_consent(conversation: WaConversation, *, confirmed: bool, note: str | None, user: Any) -> Contact:
    """The customer agreed (in the chat, on the phone…) to WhatsApp messages; an operator
    records it. Consent is never inferred from a message: a person states it, explicitly."""
    errors = {}
    if confirmed is not True:
        errors["confirmed"] = "tick the box to confirm the customer agreed to receive WhatsApp messages"
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"is {len(note)} characters; at most {MAX_NOTE}"
    if errors:
        raise FieldErrors(errors)
    contact = contact_for(conversation)
    if contact is None:
        raise NotFound(f"no live contact is {customer(conversation)}")
    updated = contact_actions.update_contact(
        contact.contactId,
        {"optInWhatsApp": True},
        user=user,
        source="inbox",
        evidence={"conversation": conversation.pk, "note": note or None},
    )
    audit.record(
        user,
        "contact.consent.whatsapp",
        "contact",
        contact.contactId,
        source="inbox",
        conversation=conversation.pk,
        note=note or None,
    )
    return updated
