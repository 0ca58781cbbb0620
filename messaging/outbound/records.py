"""The records of an outbound message and each change of its state.

A message is written ``queued`` when the caller's request passes the gate, claimed ``sending``
by exactly one worker (a conditional update, so a redelivered task never sends twice), and ends
``sent``, ``failed`` (with the provider's details) or ``refused`` (the gate said no at send time).
For WhatsApp the Messages item and its ``MSG#`` item in the single table are written in one
transaction, so the two never disagree.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from contacts.models import Contact
from messaging import conversation_index, conversations, counters, email_threads, threads
from messaging.channels import RULES, Channel
from messaging.models import MESSAGE_RETENTION_DAYS, Message, StatusChange, UsageCounter
from messaging.outbound import template_catalog
from messaging.outbound.senders import SendError, SendResult
from messaging.outbound.senders.whatsapp import media_type
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import now, transaction, update_if

log = logging.getLogger(__name__)

RETENTION = timedelta(days=MESSAGE_RETENTION_DAYS)
FINAL = ("sent", "delivered", "read", "failed", "refused")


def _change(status: str, details: dict[str, Any] | None = None) -> StatusChange:
    return StatusChange(status=status, at=now(), details=details)


def _history(status: str, details: dict[str, Any] | None = None):
    """The update action that appends one status change to the message's history."""
    return Message.statusHistory.set(Message.statusHistory.append([_change(status, details)]))


def create_queued(
    *,
    thread_id: str | None = None,  # an SMS or email conversation (messaging/threads.py) it joins
    contact: Contact,
    channel: str,
    sender: str,
    content: dict[str, Any],
    template_name: str | None,
    created_by: str,
    dry_run: bool,
    purpose: str | None = None,
    message_id: str | None = None,
) -> Message:
    """Write the message ``queued``. ``message_id``: one the caller derived so that asking twice
    writes once (a second write fails its condition: ``PutError``)."""
    at = now()
    message = Message(
        messageId=message_id or str(ULID()),
        contactId=contact.contactId,
        threadId=thread_id,
        channel=channel,
        direction="outbound",
        content=content,
        timestamp=at,
        status="queued",
        statusHistory=[_change("queued")],
        templateName=template_name,
        sender=sender,
        createdBy=created_by,
        dryRun=dry_run,
        purpose=purpose,
        expiresAt=RETENTION,
    )
    if not thread_id:
        message.save(condition=Message.messageId.does_not_exist())
        return message
    # The message and its conversation's update in one transaction: the thread's counters and
    # preview move exactly once per message, as inbound recording moves them.
    business, customer = threads.ends(thread_id, sender=sender, to=RULES[Channel(channel)].address(contact) or "")
    with transaction() as tx:
        tx.save(message, condition=Message.messageId.does_not_exist(), label="message")
        tx.update(
            threads.Thread(threadId=thread_id),
            actions=threads.record_actions(
                channel=channel,
                business=business,
                customer=customer,
                contact_id=contact.contactId,
                preview=content.get("text") or "",
                direction="outbound",
                subject=content.get("subject"),
            ),
            label="thread",
        )
        conversation_index.update_in(
            tx,
            conversation_index.key_for_thread(thread_id),
            channel=channel,
            business=business,
            customer=customer,
            contact=contact,
            preview=content.get("text") or "",
            direction="outbound",
            at=at.isoformat(),
            subject=content.get("subject"),
            by=created_by,
        )
    return message


def claim(message: Message) -> bool:
    """queued -> sending, for exactly one worker. False: someone else has it (or it is done)."""
    return update_if(
        message, actions=[Message.status.set("sending"), _history("sending")], condition=Message.status == "queued"
    )


def claim_queued(message_id: str) -> Message | None:
    """``claim`` by id, in one request: the conditional update answers with the whole item (PynamoDB
    asks for ALL_NEW), so the worker needs no read first. None: someone else has it, it is done,
    or it does not exist (the condition fails for a missing item too; nothing is created)."""
    message = Message(messageId=message_id)
    return message if claim(message) else None


def mark_refused(message: Message, reason: str, sentence: str) -> None:
    details = {"code": reason, "message": sentence}
    message.update(
        actions=[Message.status.set("refused"), Message.errorDetails.set(details), _history("refused", details)],
        condition=Message.status == "sending",
    )


def mark_failed(message: Message, error: SendError) -> None:
    details = {**error.details, "message": str(error), "permanent": error.permanent}
    message.update(
        actions=[Message.status.set("failed"), Message.errorDetails.set(details), _history("failed", details)],
        condition=Message.status == "sending",
    )
    # Only one worker gets past the condition (it raises for any other): counted once.
    counters.add(counters.outbound(message.channel, "attempted", "failed", bulk=bool(message.bulkJobId)))


def mark_sent(message: Message, result: SendResult, *, to: str, customer: tuple[str, ...] = ()) -> None:
    at = now()
    actions = [
        Message.status.set("sent"),
        _history("sent", {"providerCallStartedAt": result.started_at}),
        Message.providerRequest.set(result.calls),
    ]
    if message.channel == "whatsapp":
        actions.append(Message.whatsappMessageId.set(result.provider_message_id))
    else:
        # SMS delivery events and SES events name the message by this id (providerMessageId-index).
        actions += [Message.errorDetails.remove(), Message.providerMessageId.set(result.provider_message_id)]
    with transaction() as tx:
        tx.update(message, actions=actions, condition=Message.status == "sending", label="message")
        counters.add_after(tx, counters.outbound(message.channel, "attempted", "sent", bulk=bool(message.bulkJobId)))
        if message.channel == "whatsapp":
            wa = wa_message_item(message, result, to=to, at=at.isoformat(), customer=customer)
            tx.save(wa, condition=WaMessage.pk.does_not_exist(), label="wa")
            conversation_index.update_in(
                tx,
                conversation_index.key_for_whatsapp(wa.conversationPk),
                channel="whatsapp",
                business=message.sender or "",
                customer=wa.conversationPk.rsplit("#", 1)[-1],
                contact=None,
                contact_id=message.contactId,
                preview=wa.preview or "",
                direction="outbound",
                at=at.isoformat(),
                kind=wa.type or "text",
                by=message.createdBy,
            )
        else:
            # An email in a thread: the customer's reply names its Message-ID and joins the thread.
            sent_id = email_threads.sent_id_item(message, result.provider_message_id)
            if sent_id is not None:
                tx.save(sent_id, label="email-id")
    _count_usage(message, at.strftime("%Y-%m-%d"))


def wa_message_item(
    message: Message, result: SendResult, *, to: str, at: str, customer: tuple[str, ...] = ()
) -> WaMessage:
    """The outbound ``MSG#`` item, in the recipient's conversation: ``customer`` holds their
    WhatsApp identities (``outbound.Outcome.customer``); without them, the one it was sent to."""
    content = message.content or {}
    text = (
        content.get("text")
        or (content.get("media") or {}).get("caption")
        or (content.get("interactive") or {}).get("body")
        or ""
    )
    preview = text
    if message.templateName:
        # What the customer read, not the template's name (kept in its own field).
        text, preview = _template_text(content.get("template"), message.templateName)
    kind = (
        "template"
        if message.templateName
        else ("document" if content.get("media") else "interactive" if content.get("interactive") else "text")
    )
    file = content.get("media") or {}
    if file:
        kind = media_type(file["contentType"])
    suffix = message.sender.rsplit("-", 1)[-1] if message.sender else ""
    return WaMessage(
        pk=WaMessage.key(result.provider_message_id),
        direction="OUTBOUND",
        sentAt=at,
        receivedAt=at,  # the GSIs sort on receivedAt for both directions
        to=to,
        originationPhoneNumberId=message.sender,
        conversationPk=conversations.key_for(suffix, customer or (to,)),
        type=kind,
        preview=(preview or message.templateName or "")[:100],
        textBody=text or None,
        templateName=message.templateName or None,
        # The file as the thread shows it inline: the one the message named, in our bucket.
        s3Key=file.get("s3Key"),
        mimeType=file.get("contentType"),
        filename=file.get("filename"),
        caption=file.get("caption"),
        fileSize=file["size"] if type(file.get("size")) is int else None,  # shown only; an API caller's junk is not
        deliveryStatus="sent",
        deliveryStatusHistory=[{"status": "sent", "at": at}],
        messageId=message.messageId,  # status events find the Messages item through this
        contactId=message.contactId,
    )


def _template_text(template: dict[str, Any] | None, name: str) -> tuple[str, str]:
    """A sent template's text and preview. The message is already sent when this runs: a failed
    lookup of the template (a throttled read, a malformed definition) must not cost its record, so
    it keeps only the name as the preview (the thread then renders it from the Messages item)."""
    try:
        rendered = template_catalog.render_sent(template)
    except Exception:  # anything: recording the sent message matters more than its text
        log.warning("sent template not rendered", extra={"template": name}, exc_info=True)
        return "", name
    if rendered is None:
        text = template_catalog.sent_text(template)
        return text, text
    return rendered.text, rendered.body_text


def _count_usage(message: Message, day: str) -> None:
    counter = UsageCounter.templateCount if message.templateName else UsageCounter.freeformCount
    UsageCounter(usageKey=f"{message.channel}#{message.sender}#{day}").update(
        actions=[
            counter.add(1),
            UsageCounter.channel.set(message.channel),
            UsageCounter.sender.set(message.sender or ""),
            UsageCounter.day.set(day),
        ]
    )


__all__ = [
    "FINAL",
    "TransactWriteError",
    "claim",
    "claim_queued",
    "create_queued",
    "mark_failed",
    "mark_refused",
    "mark_sent",
]
