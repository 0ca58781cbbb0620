"""The one message allowed after an opt-out: the WhatsApp confirmation of the customer's own STOP
(``send.send_consent_confirmation``, the gate's ``CONSENT_CONFIRMATION`` purpose), through the
whole send path in DRY_RUN (moto over HTTP, the worker eager)."""

import base64
import json
from datetime import timedelta

import pytest
from django.conf import settings

from contacts import actions, consent
from contacts.models import Contact
from messaging.channels import Channel
from messaging.models import Message
from messaging.outbound import send
from messaging.outbound.consent_rule import CONFIRMATION_WINDOW, Purpose
from messaging.outbound.gate import Allowance, Reason, check
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db
WA = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
STOP = {"messageId": "wamid.STOP-1", "keyword": "STOP"}
TEXT = "You will get no more promotions from us here. Reply START to opt in again."


@pytest.fixture
def opted_in(operator, new_phone):
    """A customer who opted in and just wrote to us (their window is open)."""
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(seconds=5))])
    return Contact.get(contact.contactId, consistent_read=True)


def customer_stop(contact: Contact, source: str = "keyword") -> Contact:
    return consent.change(contact, "whatsapp", False, source=source, actor=consent.CUSTOMER, evidence=STOP)


def backdate_change(contact: Contact, age: timedelta) -> Contact:
    record = contact.consentWhatsApp
    record.changedAt = now() - age
    contact.update(actions=[Contact.consentWhatsApp.set(record)])
    return Contact.get(contact.contactId, consistent_read=True)


def audits(action: str, resource_id: str) -> list[AuditLog]:
    day = now().strftime("%Y-%m-%d")
    return [e for e in AuditLog.scan() if e.action == action and e.resourceId == resource_id and e.day == day]


@pytest.mark.parametrize("source", ["keyword", "template_button"])
def test_the_confirmation_goes_right_after_the_customers_stop_and_is_audited(opted_in, source):
    contact = customer_stop(opted_in, source)
    message_id = send.send_consent_confirmation(contact, "whatsapp", WA, TEXT, STOP)
    message = Message.get(message_id, consistent_read=True)
    assert (message.status, message.purpose, message.dryRun) == ("sent", "CONSENT_CONFIRMATION", True)
    # DRY_RUN is still decided at the sender boundary: the call was validated and recorded, not made.
    call = message.providerRequest[0]
    assert (call["operation"], call["params"]["originationPhoneNumberId"]) == ("SendWhatsAppMessage", WA)
    [entry] = audits("message.send", message_id)
    assert entry.details["reason"] == "CONSENT_CONFIRMATION"
    assert entry.details["contactId"] == contact.contactId
    change = entry.details["consentChange"]
    assert (change["changedBy"], change["how"], change["evidence"]) == ("customer", source, STOP)
    assert change["changedAt"] == contact.consentWhatsApp.changedAt.isoformat()


def test_asking_twice_for_one_change_sends_one_confirmation(opted_in):
    contact = customer_stop(opted_in)
    first = send.send_consent_confirmation(contact, Channel.WHATSAPP, WA, TEXT, STOP)
    again = send.send_consent_confirmation(contact, Channel.WHATSAPP, WA, TEXT, STOP)
    assert first == again
    assert [m.messageId for m in Message.by_contact.query(contact.contactId)] == [first]
    assert Message.get(first, consistent_read=True).status == "sent"


def test_eleven_minutes_later_it_is_refused_as_withdrawn(opted_in):
    contact = backdate_change(customer_stop(opted_in), CONFIRMATION_WINDOW + timedelta(minutes=1))
    with pytest.raises(send.Refused) as refused:
        send.send_consent_confirmation(contact, "whatsapp", WA, TEXT, STOP)
    assert refused.value.code == "CONSENT_WITHDRAWN"
    assert "the customer turned them off on" in str(refused.value) and '"STOP" (message wamid.STOP-1)' in str(
        refused.value
    )
    assert list(Message.by_contact.query(contact.contactId)) == []
    [entry] = audits("message.refused", contact.contactId)
    assert (entry.details["reason"], entry.details["purpose"]) == ("CONSENT_WITHDRAWN", "CONSENT_CONFIRMATION")


def test_it_is_refused_after_an_operator_turned_consent_off(opted_in, operator):
    contact = actions.update_contact(opted_in.contactId, {"optInWhatsApp": False}, user=operator, source="page")
    with pytest.raises(send.Refused) as refused:
        send.send_consent_confirmation(contact, "whatsapp", WA, TEXT, STOP)
    assert refused.value.code == "CONSENT_WITHDRAWN"
    assert f"staff member {operator.username} turned them off" in str(refused.value)
    assert list(Message.by_contact.query(contact.contactId)) == []


def test_an_ordinary_message_after_the_stop_is_refused(opted_in, client_for, operator):
    contact = customer_stop(opted_in)
    # The API cannot choose the purpose: the field is not part of the request.
    response = client_for(operator).post(
        "/api/messages",
        {
            "contactId": contact.contactId,
            "channel": "whatsapp",
            "text": "A promotion",
            "purpose": "CONSENT_CONFIRMATION",
        },
        content_type="application/json",
    )
    assert response.status_code in (400, 422) and response.json().get("code") != "CONSENT_CONFIRMATION"
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": contact.contactId, "channel": "whatsapp", "text": "A promotion"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (422, "CONSENT_WITHDRAWN")
    assert list(Message.by_contact.query(contact.contactId)) == []


def test_the_worker_judges_a_queued_confirmation_by_its_stored_purpose(opted_in):
    """A confirmation whose record lost its purpose is an ordinary message: refused at send time."""
    contact = customer_stop(opted_in)
    verdict = send.dispatch(
        Contact.get(contact.contactId, consistent_read=True),
        Message(
            messageId="m-no-purpose",
            contactId=contact.contactId,
            channel="whatsapp",
            direction="outbound",
            content={"text": TEXT},
            timestamp=now(),
            status="sending",
            sender=WA,
        ),
        tier_allows=lambda phone: True,
        reserve=lambda channel, sender: None,
    ).verdict
    assert verdict.reason == Reason.CONSENT_WITHDRAWN


def test_the_confirmation_still_needs_an_allowlisted_sender_and_the_window(opted_in):
    contact = customer_stop(opted_in)
    off_list = check(
        contact,
        Channel.WHATSAPP,
        "phone-number-id-0000",
        is_template=False,
        at=now(),
        tier_allows=lambda p: True,
        purpose=Purpose.CONSENT_CONFIRMATION,
    )
    assert off_list.reason == Reason.SENDER_NOT_ALLOWLISTED
    contact.lastInboundMessageAt = now() - timedelta(hours=25)
    closed = check(
        contact,
        Channel.WHATSAPP,
        WA,
        is_template=False,
        at=now(),
        tier_allows=lambda p: True,
        purpose=Purpose.CONSENT_CONFIRMATION,
    )
    assert closed.reason == Reason.CONSENT_WITHDRAWN  # the exception is for an answer inside the window
    closed_template = check(
        contact,
        Channel.WHATSAPP,
        WA,
        is_template=True,
        at=now(),
        tier_allows=lambda p: True,
        purpose=Purpose.CONSENT_CONFIRMATION,
    )
    assert closed_template.reason == Reason.CONSENT_WITHDRAWN  # nor as a template spending the tier
    contact.lastInboundMessageAt = now()
    allowed = check(
        contact,
        Channel.WHATSAPP,
        WA,
        is_template=False,
        at=now(),
        tier_allows=lambda p: True,
        purpose=Purpose.CONSENT_CONFIRMATION,
    )
    assert (allowed.allowed, allowed.allowance) == (True, Allowance.CONSENT_CONFIRMATION)


def test_only_whatsapp_has_the_exception(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    contact = consent.change(contact, "sms", False, source="keyword", actor=consent.CUSTOMER, evidence=STOP)
    verdict = check(
        contact,
        Channel.SMS,
        settings.SMS_POOL_ID,
        is_template=False,
        at=now(),
        tier_allows=lambda p: True,
        purpose=Purpose.CONSENT_CONFIRMATION,
    )
    assert verdict.reason == Reason.CONSENT_WITHDRAWN


def test_a_start_after_the_stop_is_confirmed_as_its_own_change(opted_in):
    stopped = customer_stop(opted_in)
    first = send.send_consent_confirmation(stopped, "whatsapp", WA, TEXT, STOP)
    started = consent.change(
        stopped, "whatsapp", True, source="keyword", actor=consent.CUSTOMER, evidence={"keyword": "START"}
    )
    second = send.send_consent_confirmation(started, "whatsapp", WA, "Welcome back.", {"keyword": "START"})
    assert first != second
    assert {Message.get(m, consistent_read=True).status for m in (first, second)} == {"sent"}
    [entry] = audits("message.send", second)
    assert entry.details["reason"] == "CONSENT_CONFIRMATION" and entry.details["evidence"] == {"keyword": "START"}


def test_in_live_the_confirmation_reaches_the_provider_once_and_a_refused_one_never(
    opted_in, settings, fake_aws_clean, operator, new_phone
):
    """DRY_RUN and LIVE differ only at the sender boundary: in LIVE the same path calls the
    provider (the local fake over HTTP) once for the confirmation, and not for a refused one."""
    settings.SEND_MODE = "LIVE"
    contact = customer_stop(opted_in)
    message_id = send.send_consent_confirmation(contact, "whatsapp", WA, TEXT, STOP)
    [call] = fake_aws_clean.calls("SendWhatsAppMessage")
    body = json.loads(base64.b64decode(call["params"]["message"]))
    assert (body["to"], body["text"]["body"]) == (contact.phone.removeprefix("+"), TEXT)
    assert Message.get(message_id, consistent_read=True).dryRun is False
    other = actions.create_contact({"phone": new_phone()}, user=operator, source="page")  # never opted in
    with pytest.raises(send.Refused):
        send.send_consent_confirmation(other, "whatsapp", WA, TEXT, STOP)
    assert len(fake_aws_clean.calls("SendWhatsAppMessage")) == 1


def test_a_stop_confirmed_only_after_the_customers_start_is_not_sent_and_the_start_gets_its_own(opted_in):
    stopped = customer_stop(opted_in)
    start = {"messageId": "wamid.START-2", "keyword": "START"}
    started = consent.change(stopped, "whatsapp", True, source="keyword", actor=consent.CUSTOMER, evidence=start)
    # The STOP's follow-up runs late (a redelivery): its text no longer answers what the customer did.
    with pytest.raises(send.Superseded):
        send.send_consent_confirmation(started, "whatsapp", WA, TEXT, STOP)
    assert list(Message.by_contact.query(started.contactId)) == []
    welcome = send.send_consent_confirmation(started, "whatsapp", WA, "Welcome back.", start)
    assert Message.get(welcome, consistent_read=True).content["text"] == "Welcome back."
