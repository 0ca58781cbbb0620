"""Recording one inbound message exactly once: the idempotency item, the ``MSG#`` item, the
Messages item and the conversation's counters in one transaction, so a duplicate changes nothing.
Why and how: docs/design/inbound.md ("A message, exactly once").
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from contacts.models import Contact
from messaging import conversation_index, conversations, counters
from messaging.inbound.events import InboundMessage
from messaging.models import MESSAGE_RETENTION_DAYS, Message, StatusChange
from messaging.whatsapp_table import WaConversation, WaIdempotency, WaMessage
from wecare.dynamo import now, transaction

log = logging.getLogger(__name__)

IDEMPOTENCY_TTL = timedelta(days=7)
RETENTION = timedelta(days=MESSAGE_RETENTION_DAYS)
RAW_PAYLOAD_CHARS = 20_000


@dataclass(frozen=True)
class Recorded:
    new: bool  # False: a duplicate, nothing was written
    wa_item: WaMessage | None  # the MSG# item as written (None for a duplicate)


def conversation_key(message: InboundMessage, contact: Contact) -> tuple[str, bool]:
    """(key, exists) of the contact's conversation with the business number the message reached:
    ``CONV#<suffix>#<number>`` or ``CONV#<suffix>#<BSUID>``, the one already there if any."""
    # The contact's identities, not the message's: a customer who now hides their number is
    # still in the conversation under it. (The message's own identity is the fallback for a
    # contact that holds neither, which a contact found or made from the sender cannot be.)
    return conversations.locate(message.business.suffix, conversations.identities(contact) or (message.customer,))


def record(message: InboundMessage, contact: Contact, *, contact_created: bool) -> Recorded:
    conversation_pk, exists = conversation_key(message, contact)
    starts_conversation = not exists
    for _attempt in range(2):
        received_at = now().isoformat()
        messages_item = _messages_item(message, contact)
        wa_item = _wa_item(
            message, contact, conversation_pk, received_at, contact_created=contact_created, first=starts_conversation
        )
        wa_item.messageId = messages_item.messageId
        tx = transaction()
        try:
            with tx:
                tx.save(_idempotency(message), condition=WaIdempotency.pk.does_not_exist(), label="event")
                counters.add_after(tx, counters.inbound("whatsapp"))
                tx.save(wa_item, condition=WaMessage.pk.does_not_exist(), label="wa")
                tx.save(messages_item, condition=Message.messageId.does_not_exist(), label="message")
                tx.update(
                    WaConversation(pk=conversation_pk),
                    actions=_conversation_actions(message, contact, conversation_pk, received_at),
                    condition=WaConversation.pk.does_not_exist() if starts_conversation else None,
                    label="conversation",
                )
                conversation_index.update_in(
                    tx,
                    conversation_index.key_for_whatsapp(conversation_pk),
                    channel="whatsapp",
                    business=message.business.phone_number_id,
                    customer=conversation_pk.rsplit("#", 1)[-1],
                    contact=contact,
                    preview=message.preview,
                    direction="inbound",
                    at=received_at,
                    kind=message.type,
                )
        except TransactWriteError as exc:
            failed = tx.failed_labels(exc)
            if "event" in failed or "wa" in failed:
                log.info("duplicate inbound message", extra={"wa_message_id": message.wa_message_id})
                return Recorded(new=False, wa_item=None)
            if failed == ["conversation"]:
                starts_conversation = False  # another message created it a moment ago: go again
                continue
            raise
        return Recorded(new=True, wa_item=wa_item)
    raise RuntimeError("unreachable: the second attempt has no conversation condition")


def _idempotency(message: InboundMessage) -> WaIdempotency:
    return WaIdempotency(
        pk=WaIdempotency.key(message.wa_message_id),
        eventType="message",
        processedAt=now().isoformat(),
        ttl=IDEMPOTENCY_TTL,
    )


def _wa_item(
    message: InboundMessage,
    contact: Contact,
    conversation_pk: str,
    received_at: str,
    *,
    contact_created: bool,
    first: bool,
) -> WaMessage:
    business = message.business
    return WaMessage(
        pk=WaMessage.key(message.wa_message_id),
        direction="INBOUND",
        receivedAt=received_at,  # when we got it; waTimestamp is when the customer sent it
        waTimestamp=str(int(message.sent_at.timestamp())),
        from_=message.customer,
        to=business.display_phone,
        senderName=message.sender_name,
        originationPhoneNumberId=business.phone_number_id,
        wabaMetaId=business.waba_meta_id,
        conversationPk=conversation_pk,
        type=message.type,
        preview=message.preview,
        textBody=message.text or None,
        caption=message.caption,
        filename=message.filename,
        mediaId=message.media_id,
        mimeType=message.mime_type,
        reactedWithEmoji=message.reaction_emoji if message.type == "reaction" else None,
        contactId=contact.contactId,
        followUp=_follow_up(message, contact_created=contact_created, first=first),
        rawPayload=_raw_payload(message) if message.type == "unsupported" else None,
    )


def _raw_payload(message: InboundMessage) -> str:
    """What the inbox shows of a message it cannot draw: Meta's JSON, cut to a size that keeps the
    item small (the Messages item keeps it whole)."""
    text = json.dumps(message.raw, ensure_ascii=False, indent=1, default=str)
    return text if len(text) <= RAW_PAYLOAD_CHARS else text[:RAW_PAYLOAD_CHARS] + "\n…"


def _follow_up(message: InboundMessage, *, contact_created: bool, first: bool) -> dict[str, Any]:
    """What messaging.inbound.followups needs after the transaction (see there)."""
    follow_up: dict[str, Any] = {"contactCreated": contact_created, "startsConversation": first}
    if message.reaction_to:
        follow_up["reactionTo"] = message.reaction_to
    if message.type == "button" and message.details.get("payload"):
        # A template button's payload is not on the MSG# item; the consent step reads it here.
        follow_up["buttonPayload"] = message.details["payload"]
    return follow_up


def _content(message: InboundMessage) -> dict[str, Any]:
    content: dict[str, Any] = {"type": message.type, "preview": message.preview, "from": message.customer}
    optional = {
        "text": message.text,
        "caption": message.caption,
        "filename": message.filename,
        "mimeType": message.mime_type,
        "senderName": message.sender_name,
        "fromUserId": message.sender.user_id,
        "replyTo": message.reply_to,
        "reactionTo": message.reaction_to,
        "reactionEmoji": message.reaction_emoji,
    }
    content.update({k: v for k, v in optional.items() if v is not None})
    content.update(message.details)
    content["payload"] = message.raw  # Meta's message as it came: nothing it said is lost
    return content


def _messages_item(message: InboundMessage, contact: Contact) -> Message:
    return Message(
        messageId=str(ULID()),
        contactId=contact.contactId,
        channel="whatsapp",
        direction="inbound",
        content=_content(message),
        timestamp=message.sent_at,
        status="received",
        statusHistory=[StatusChange(status="received", at=now())],
        whatsappMessageId=message.wa_message_id,
        mediaId=message.media_id,
        sender=message.business.phone_number_id,  # the business number it reached
        expiresAt=RETENTION,
    )


def _conversation_actions(message: InboundMessage, contact: Contact, conversation_pk: str, received_at: str) -> list:
    business = message.business
    actions = [
        WaConversation.itemType.set(WaConversation),
        WaConversation.inboxPk.set(business.phone_number_id),
        # Whom the conversation is with is its key's identity, whichever one this message names.
        WaConversation.from_.set(conversation_pk.rsplit("#", 1)[-1]),
        WaConversation.receivedAt.set(received_at),
        WaConversation.originationPhoneNumberId.set(business.phone_number_id),
        WaConversation.lastMessagePk.set(WaMessage.key(message.wa_message_id)),
        WaConversation.lastMessageId.set(message.wa_message_id),
        WaConversation.lastType.set(message.type),
        WaConversation.lastPreview.set(message.preview),
        WaConversation.lastS3Uri.remove(),  # set by the media step once this message's file is in S3
        WaConversation.unreadCount.add(1),
        # A customer writing again brings an archived conversation back to the inbox.
        WaConversation.archived.set(False),
    ]
    if business.display_phone:
        actions.append(WaConversation.businessPhone.set(business.display_phone))
    # Both identities as the contact now holds them (a value held by another contact is left out).
    actions.extend(
        attribute.set(value)
        for attribute, value in (
            (WaConversation.customerPhone, contact.phone),
            (WaConversation.customerUserId, contact.whatsappUserId),
        )
        if value
    )
    return actions
