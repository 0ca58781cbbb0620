"""SMS and email conversations written as the inbound code records them: the Messages item with
its threadId, the Thread's update (``threads.record_actions``) and the inbox item's in one transaction. For tests of
the pages and the API that need a given state before (or without) the signed webhook."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ulid import ULID

from contacts.models import Contact
from messaging import conversation_index, threads
from messaging.models import MESSAGE_RETENTION_DAYS, Message, StatusChange
from wecare.dynamo import now, transaction


def inbound(
    thread_id: str,
    *,
    channel: str,
    business: str,
    customer: str,
    contact: Contact | None,
    text: str,
    subject: str | None = None,
    content: dict[str, Any] | None = None,
) -> Message:
    at = now()
    body = {"text": text, **({"subject": subject} if subject else {}), **(content or {})}
    message = Message(
        messageId=str(ULID()),
        contactId=contact.contactId if contact else "unknown",
        threadId=thread_id,
        channel=channel,
        direction="inbound",
        content=body,
        timestamp=at,
        status="received",
        statusHistory=[StatusChange(status="received", at=at)],
        sender=customer,
        expiresAt=timedelta(days=MESSAGE_RETENTION_DAYS),
    )
    with transaction() as tx:
        tx.save(message, condition=Message.messageId.does_not_exist())
        tx.update(
            threads.Thread(threadId=thread_id),
            actions=threads.record_actions(
                channel=channel,
                business=business,
                customer=customer,
                contact_id=contact.contactId if contact else None,
                preview=text,
                direction="inbound",
                subject=subject,
            ),
        )
        conversation_index.update_in(
            tx,
            conversation_index.key_for_thread(thread_id),
            channel=channel,
            business=business,
            customer=customer,
            contact=contact,
            preview=text,
            direction="inbound",
            at=at.isoformat(),
            subject=subject,
        )
    return message


def sms(business: str, contact: Contact, text: str) -> Message:
    assert contact.phone
    return inbound(
        threads.sms_thread_id(business, contact.phone),
        channel="sms",
        business=business,
        customer=contact.phone,
        contact=contact,
        text=text,
    )


def email(
    address: str,
    contact: Contact,
    text: str,
    *,
    subject: str = "Order 1042",
    thread_id: str | None = None,
    **content: Any,
) -> Message:
    assert contact.email
    return inbound(
        thread_id or threads.new_email_thread_id(),
        channel="email",
        business=address,
        customer=contact.email,
        contact=contact,
        text=text,
        subject=subject,
        content=content,
    )


def thread_of(message: Message) -> threads.Thread:
    assert message.threadId
    return threads.Thread.get(message.threadId, consistent_read=True)
