"""The dashboard's hourly counters equal a recount of the records after a mix of sends, statuses
(duplicates and out-of-order ones among them) and inbound messages: each message counts once in
each status it reached, a duplicate event counts nothing, and "sent" is the send's own count.
Over the test moto, through the record steps themselves (docs/design/operations.md, "Dashboard")."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from pynamodb.expressions.operand import Path as AttributePath

from contacts import actions
from messaging import counters
from messaging.inbound import sms_events, sms_inbound
from messaging.inbound.process import process_inbound_event
from messaging.models import Message
from messaging.outbound import records
from messaging.outbound.senders import SendError, SendResult
from messaging.tests.counts import counted_since, hours_since, totals
from messaging.tests.inbound_samples import inbound, new_wamid, status
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
NUMBER = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"
SMS_BUSINESS = "+12065550100"
AWS_FIXTURES = Path(__file__).parent / "fixtures" / "aws"


def queued(contact, channel: str) -> Message:
    message = records.create_queued(
        contact=contact,
        channel=channel,
        sender=NUMBER if channel == "whatsapp" else SMS_BUSINESS,
        content={"text": "Your order shipped"},
        template_name=None,
        created_by="test",
        dry_run=False,
    )
    assert records.claim(message)
    return message


def sms_event(provider_message_id: str, event_type: str) -> str:
    example = json.loads((AWS_FIXTURES / "sms_event_text_successful.json").read_text())
    return json.dumps(
        {
            **example,
            "eventType": event_type,
            "messageId": provider_message_id,
            "eventTimestamp": int(time.time() * 1000),
        }
    )


def inbound_sms(customer: str) -> str:
    example = json.loads((AWS_FIXTURES / "sms_inbound_two_way.json").read_text())
    return json.dumps(
        {
            **example,
            "originationNumber": customer,
            "destinationNumber": SMS_BUSINESS,
            "messageBody": "Is it ready?",
            "messageKeyword": "",
            "inboundMessageId": str(uuid.uuid4()),
        }
    )


def recount(outbound: list[str], wamids: dict[str, str], inbound_wamids: set[str], sms_customer: str) -> Counter[str]:
    """What the records say, counted without the counters: each outbound message once in each
    status its records show it reached; each inbound message recorded once."""
    expected: Counter[str] = Counter()
    for message_id in outbound:
        message = Message.get(message_id, consistent_read=True)
        channel = message.channel
        if message.status not in ("queued", "sending", "refused"):
            expected[counters.name(channel, "attempted")] += 1
        if message.whatsappMessageId or message.providerMessageId:
            expected[counters.name(channel, "sent")] += 1
        if channel == "whatsapp" and message_id in wamids:
            wa = WaMessage.get(WaMessage.key(wamids[message_id]), consistent_read=True)
            reached = {entry["status"] for entry in wa.deliveryStatusHistory} - {"sent"}
        else:  # SMS moves forward only; a send that failed has no provider id at all
            reached = {message.status} - {"sent"}
        for reached_status in reached:
            expected[counters.name(channel, reached_status)] += 1
    for wamid in inbound_wamids:
        WaMessage.get(WaMessage.key(wamid), consistent_read=True)  # recorded (raises if not)
        expected[counters.name("whatsapp", "inbound")] += 1
    from_customer = Message.by_contact.query(sms_customer, filter_condition=Message.direction == "inbound")
    expected[counters.name("sms", "inbound")] += sum(1 for m in from_customer if m.channel == "sms")
    return expected


def test_the_counters_equal_a_recount_of_the_messages(settings, operator, new_phone, fake_aws_clean):
    settings.SMS_NUMBERS = [SMS_BUSINESS]
    started = now()
    before = totals(hours_since(started))

    phones = [new_phone() for _ in range(4)]
    contacts = [
        actions.create_contact({"phone": p, "optInWhatsApp": True, "optInSms": True}, user=operator, source="test")
        for p in phones
    ]
    outbound: list[str] = []
    wamids: dict[str, str] = {}
    # Three WhatsApp messages sent and one that failed at the provider call.
    for contact in contacts[:3]:
        message = queued(contact, "whatsapp")
        wamids[message.messageId] = new_wamid()
        records.mark_sent(message, SendResult(provider_message_id=wamids[message.messageId]), to=contact.phone)
        outbound.append(message.messageId)
    failed = queued(contacts[3], "whatsapp")
    records.mark_failed(failed, SendError("Recipient unreachable", permanent=True, details={"code": "131026"}))
    outbound.append(failed.messageId)

    first, second, third = (wamids[m] for m in outbound[:3])
    for name, wamid, phone in [
        ("status_sent", first, phones[0]),  # Meta's own "sent": the send counted it already
        ("status_delivered", first, phones[0]),
        ("status_read", first, phones[0]),
        ("status_delivered", first, phones[0]),  # a duplicate
        ("status_read", second, phones[1]),  # read overtakes delivered
        ("status_delivered", second, phones[1]),  # late: still a message that was delivered
        ("status_read", second, phones[1]),  # a duplicate
        ("status_failed", third, phones[2]),
        ("status_failed", third, phones[2]),  # a duplicate
    ]:
        process_inbound_event(status(name, wamid=wamid, phone=phone))

    # Two customers' WhatsApp messages, the first delivered twice by SNS.
    inbound_wamids = {new_wamid(), new_wamid()}
    for wamid, phone in zip(sorted(inbound_wamids), phones, strict=False):
        event, _ = inbound("inbound_text", phone=phone, wamid=wamid)
        process_inbound_event(event)
        if phone == phones[0]:
            process_inbound_event(event)

    # An SMS delivered (the event twice, then a failure that can no longer move it), and an
    # inbound SMS delivered twice.
    sms = queued(contacts[0], "sms")
    records.mark_sent(sms, SendResult(provider_message_id=f"sms-{uuid.uuid4()}"), to=phones[0])
    outbound.append(sms.messageId)
    provider_id = Message.get(sms.messageId, consistent_read=True).providerMessageId
    for event_type in ("TEXT_DELIVERED", "TEXT_DELIVERED", "TEXT_CARRIER_UNREACHABLE"):
        sms_events.process(sms_event(provider_id, event_type))
    customer_sms = inbound_sms(phones[1])
    sms_inbound.process(customer_sms)
    sms_inbound.process(customer_sms)

    expected = recount(outbound, wamids, inbound_wamids, contacts[1].contactId)
    assert counted_since(started, before) == expected
    # The mix above, by hand: what the recount must come to.
    assert expected == Counter(
        whatsapp_attempted=4,
        whatsapp_sent=3,
        whatsapp_delivered=2,
        whatsapp_read=2,
        whatsapp_failed=2,
        whatsapp_inbound=2,
        sms_attempted=1,
        sms_sent=1,
        sms_delivered=1,
        sms_inbound=1,
    )


def test_a_count_that_cannot_be_written_is_logged_and_never_raises(caplog):
    # An hour long gone whose counter holds a string: DynamoDB refuses to ADD to it.
    at = now() - timedelta(days=400)
    counters.HourlyCounts(hour=counters.hour_key(at), expiresAt=timedelta(days=1)).save()
    counters.HourlyCounts(hour=counters.hour_key(at)).update(actions=[AttributePath("whatsapp_sent").set("many")])

    counters.add({"whatsapp_sent": 1}, at=at)

    assert "hourly counts not written" in caplog.text
    assert counters.read([counters.hour_key(at)]) == {counters.hour_key(at): {}}
