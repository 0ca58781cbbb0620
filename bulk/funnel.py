"""A campaign's funnel: of the messages sent, how many were delivered, read and answered, and how
many failed. Read from what is already recorded, never by scanning the Messages table: the job's
recipients (one Query of its partition), their messages by key and their contacts by key
(BatchGetItem). Why these sources and what "replied" means: docs/design/bulk-sending.md ("The funnel").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bulk.models import BulkJob, BulkRecipient
from bulk.queries import all_recipients
from contacts.models import Contact
from messaging.models import Message

T = TypeVar("T")
BATCH = 100  # BatchGetItem's limit
DELIVERED = ("delivered", "read", "complained")  # a complaint means the mail arrived
FAILED_LATER = ("failed",)  # a message the provider accepted and could not deliver


@dataclass(frozen=True)
class Funnel:
    sent: int  # accepted by the provider (the job's sent recipients)
    delivered: int  # of those, reached the phone or mailbox (read ones included)
    read: int  # of those, read (WhatsApp read receipts)
    replied: int  # of those, the customer wrote to us after the send (WhatsApp)
    failed: int  # refused by the provider at the send, or failed on the way after it
    replies_counted: bool  # False: this channel records no replies to count (SMS, email)

    def percent(self, part: int) -> int:
        return round(100 * part / self.sent) if self.sent else 0

    @property
    def stages(self) -> list[tuple[str, str, int, int]]:
        """(key, label, count, percent of sent) for the page."""
        rows = [("sent", "Sent", self.sent), ("delivered", "Delivered", self.delivered), ("read", "Read", self.read)]
        if self.replies_counted:
            rows.append(("replied", "Replied", self.replied))
        # Sent is the whole bar once anything went out; a job that has sent nothing yet shows empty bars.
        whole = 100 if self.sent else 0
        return [(key, label, count, self.percent(count) if key != "sent" else whole) for key, label, count in rows]


def _batches(items: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def funnel(job: BulkJob) -> Funnel:
    sent = [r for r in all_recipients(job.jobId) if r.status == "sent" and r.messageId]
    statuses = _message_statuses(sent)
    replies_counted = job.channel == "whatsapp"
    last_inbound = _last_inbound([r.contactId for r in sent if r.contactId]) if replies_counted else {}
    replied = sum(
        1
        for r in sent
        if r.sentAt is not None and (at := last_inbound.get(r.contactId or "")) is not None and at > r.sentAt
    )
    failed_later = sum(1 for r in sent if statuses.get(r.messageId or "") in FAILED_LATER)
    return Funnel(
        sent=len(sent),
        delivered=sum(1 for s in statuses.values() if s in DELIVERED),
        read=sum(1 for s in statuses.values() if s == "read"),
        replied=replied,
        failed=int(job.failedCount) + failed_later,
        replies_counted=replies_counted,
    )


def _message_statuses(recipients: list[BulkRecipient]) -> dict[str, str]:
    found: dict[str, str] = {}
    for batch in _batches(r.messageId for r in recipients if r.messageId):
        for message in Message.batch_get(batch, attributes_to_get=["messageId", "status"]):
            found[message.messageId] = message.status
    return found


def _last_inbound(contact_ids: list[str]) -> dict[str, datetime]:
    """When each contact last wrote to us on WhatsApp (the window's start, Contact.lastInboundMessageAt)."""
    found: dict[str, datetime] = {}
    for batch in _batches(dict.fromkeys(contact_ids)):
        for contact in Contact.batch_get(batch, attributes_to_get=["contactId", "lastInboundMessageAt"]):
            if contact.lastInboundMessageAt is not None:
                found[contact.contactId] = contact.lastInboundMessageAt
    return found
