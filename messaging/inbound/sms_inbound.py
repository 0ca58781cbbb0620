"""Two-way SMS from customers (AWS End User Messaging SMS publishes each inbound message to SNS):
the message goes into the conversation of the customer's number with the business number they
wrote to, exactly once, and an opt-out or opt-in word changes their SMS consent and the SMS
opt-out list. The platform sends nothing back: AWS answers keywords itself.
docs/design/inbound.md, "Two-way SMS".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from contacts import consent, sms_opt_out_list
from contacts.models import Contact
from contacts.queries import get_contact
from messaging import conversation_index, counters, threads
from messaging.inbound import keywords
from messaging.inbound.contacts import find_or_create_by_number
from messaging.models import MESSAGE_RETENTION_DAYS, InboundEvent, Message, StatusChange
from wecare.dlq import DeadLetterTask, PermanentError
from wecare.dynamo import now, transaction, update_if
from wecare.errors import NotFound

log = logging.getLogger(__name__)

RETENTION = timedelta(days=MESSAGE_RETENTION_DAYS)
SOURCE = "sms-inbound"
MAX_NUMBER = 32  # E.164 is at most 16 characters; short codes are shorter
MAX_ID = 200


class MalformedSms(ValueError):
    """Not a two-way SMS notification we can record: parked on inbound-dlq with the reason."""


@dataclass(frozen=True)
class InboundSms:
    customer: str  # originationNumber: who wrote
    business: str  # destinationNumber: our number they wrote to
    body: str
    keyword: str | None  # the registered keyword AWS matched, if any
    inbound_message_id: str
    previous_published_message_id: str | None  # the message of ours they answered, if AWS knows it

    @property
    def event_key(self) -> str:
        return f"sms#{self.inbound_message_id}"


def _text(body: dict[str, Any], name: str, *, limit: int | None = None, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise MalformedSms(f"{name} is missing or not text")
    if limit is not None and len(value) > limit:
        raise MalformedSms(f"{name} is longer than {limit} characters")
    return value.strip() if limit is not None else value


def parse(message: str) -> InboundSms:
    try:
        body = json.loads(message)
    except ValueError as exc:
        raise MalformedSms(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise MalformedSms("not a JSON object")
    return InboundSms(
        customer=_text(body, "originationNumber", limit=MAX_NUMBER) or "",
        business=_text(body, "destinationNumber", limit=MAX_NUMBER) or "",
        body=_text(body, "messageBody", required=False) or "",
        keyword=_text(body, "messageKeyword", limit=MAX_ID, required=False) or None,
        inbound_message_id=_text(body, "inboundMessageId", limit=MAX_ID) or "",
        previous_published_message_id=_text(body, "previousPublishedMessageId", limit=MAX_ID, required=False) or None,
    )


def _recorded(sms: InboundSms) -> InboundEvent | None:
    try:
        return InboundEvent.get(sms.event_key, consistent_read=True)
    except InboundEvent.DoesNotExist:
        return None


def _message(sms: InboundSms, contact: Contact, thread_id: str) -> Message:
    content = {
        "text": sms.body,
        "keyword": sms.keyword,
        "from": sms.customer,
        "to": sms.business,
        "previousPublishedMessageId": sms.previous_published_message_id,
        "inboundMessageId": sms.inbound_message_id,
    }
    return Message(
        messageId=str(ULID()),
        contactId=contact.contactId,
        channel="sms",
        direction="inbound",
        content={k: v for k, v in content.items() if v is not None},
        timestamp=now(),  # the SNS payload carries no time of its own
        status="received",
        statusHistory=[StatusChange(status="received", at=now())],
        sender=sms.business,  # the business number it reached: the thread's, and a reply's sender
        threadId=thread_id,
        expiresAt=RETENTION,
    )


def record(sms: InboundSms, contact: Contact, *, sns_message_id: str | None) -> InboundEvent | None:
    """The idempotency item, the Messages item and the thread's update in one transaction; None
    when the notification was recorded before (nothing is written)."""
    thread_id = threads.sms_thread_id(sms.business, sms.customer)
    message = _message(sms, contact, thread_id)
    event = InboundEvent(
        eventKey=sms.event_key,
        kind="sms_inbound",
        processedAt=now(),
        snsMessageId=sns_message_id,
        messageId=message.messageId,
        contactId=contact.contactId,
        consentPending=True,  # cleared once the keyword step (if any) is done: see ``follow_up``
        expiresAt=RETENTION,
    )
    tx = transaction()
    try:
        with tx:
            tx.save(event, condition=InboundEvent.eventKey.does_not_exist(), label="event")
            counters.add_after(tx, counters.inbound("sms"))
            tx.save(message, condition=Message.messageId.does_not_exist(), label="message")
            tx.update(
                threads.Thread(threadId=thread_id),
                actions=threads.record_actions(
                    channel="sms",
                    business=sms.business,
                    customer=sms.customer,
                    contact_id=contact.contactId,
                    preview=sms.body,
                    direction="inbound",
                ),
                label="thread",
            )
            conversation_index.update_in(
                tx,
                conversation_index.key_for_thread(thread_id),
                channel="sms",
                business=sms.business,
                customer=sms.customer,
                contact=contact,
                preview=sms.body,
                direction="inbound",
                at=message.timestamp.isoformat(),
            )
    except TransactWriteError as exc:
        if "event" in tx.failed_labels(exc):
            return None
        raise
    return event


def follow_up(sms: InboundSms, event: InboundEvent) -> str | None:
    """The consent step of a recorded message: an opt-out word turns SMS consent off and puts the
    number on the opt-out list; an opt-in word takes it off the list and turns consent on. Each
    part is safe to repeat (same value: no change), and ``consentPending`` is cleared last, so a
    redelivery finishes what a crash left undone, and a replay after that changes nothing (a later
    START is not undone by an old STOP delivered again). Returns the intent applied, if any."""
    if not event.consentPending:
        return None
    # The whole message is the word, or AWS matched one of its registered keywords at its start.
    intent, word = keywords.classify("sms", sms.body), sms.body.strip()
    if intent is None:
        intent, word = keywords.classify("sms", sms.keyword), sms.keyword or ""
    if intent is not None:
        _apply(intent, word, sms, event)
    update_if(
        InboundEvent(eventKey=event.eventKey),
        actions=[InboundEvent.consentPending.remove()],
        condition=InboundEvent.eventKey.exists(),
    )
    return intent.value if intent else None


def _apply(intent: keywords.Intent, word: str, sms: InboundSms, event: InboundEvent) -> None:
    try:
        contact = get_contact(event.contactId or "")
    except NotFound:
        log.warning("sms keyword from a contact deleted since", extra={"inbound_message_id": sms.inbound_message_id})
        return
    if event.processedAt is not None and consent.superseded(
        contact, "sms", event.processedAt, evidence_key="inboundMessageId", evidence_value=sms.inbound_message_id
    ):
        # A retry after a later change (the customer's next word, a person's): this older word
        # must not undo it (a START retried after a STOP would opt the customer in again).
        log.info("sms keyword older than the consent", extra={"inbound_message_id": sms.inbound_message_id})
        return
    evidence = {"inboundMessageId": sms.inbound_message_id, "keyword": word}
    if intent is keywords.Intent.OPT_OUT:
        # The platform's gate first (it stops our sends at once), then AWS's list. AWS already lists
        # the number for its own registered keywords; ours (other words, other languages) it does not.
        consent.change(contact, "sms", False, source="keyword", actor=consent.CUSTOMER, evidence=evidence)
        if not sms_opt_out_list.holds(sms.customer):
            sms_opt_out_list.add(sms.customer)
    else:
        # The list first: consent on while AWS still refuses would fail every send (and turn it off).
        sms_opt_out_list.remove(sms.customer)
        consent.change(contact, "sms", True, source="keyword", actor=consent.CUSTOMER, evidence=evidence)
    log.info(
        "sms consent keyword",
        extra={"contact_id": contact.contactId, "intent": intent.value, "inbound_message_id": sms.inbound_message_id},
    )


def process(message: str, *, sns_message_id: str | None = None) -> dict[str, Any]:
    """{"recorded": bool, "intent": "opt_out" | "opt_in" | None}. MalformedSms for a body that is
    not a two-way SMS; anything else that fails propagates, and the retry redoes only what is
    not done."""
    sms = parse(message)
    if sms.business not in settings.SMS_NUMBERS:
        # Never lose a customer's message: recorded all the same, and someone should add the number.
        log.warning(
            "inbound sms to a number not in SMS_NUMBERS",
            extra={"destination": sms.business, "inbound_message_id": sms.inbound_message_id},
        )
    event = _recorded(sms)
    recorded = False
    if event is None:
        contact, _created = find_or_create_by_number(sms.customer, source=SOURCE)
        event = record(sms, contact, sns_message_id=sns_message_id)
        recorded = event is not None
        if event is None:  # another delivery recorded it between our read and our write
            event = _recorded(sms)
    if not recorded:
        log.info("duplicate inbound sms", extra={"inbound_message_id": sms.inbound_message_id})
    intent = follow_up(sms, event) if event is not None else None
    return {"recorded": recorded, "intent": intent}


# Queue: inbound-queue. DeadLetterTask retries with backoff, then parks on inbound-dlq; a
# PermanentError parks at once. Idempotent (InboundEvent item), so a redelivery or replay is safe.
@shared_task(base=DeadLetterTask, name="messaging.process_sms_inbound")
def process_sms_inbound(message: str, sns_message_id: str | None = None) -> dict:
    """``message``: the SNS Message string (the two-way SMS JSON)."""
    try:
        return process(message, sns_message_id=sns_message_id)
    except MalformedSms as exc:
        log.error(
            "unusable inbound sms",
            extra={"sns_message_id": sns_message_id, "error": str(exc), "body": message[:2000]},
        )
        raise PermanentError(str(exc)) from exc
