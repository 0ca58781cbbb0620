"""From an EUM event to the welcome: inbound processing records the message and hands it to
messaging.after_inbound, which greets through the safety gate (Celery eager, as in all tests)."""

from __future__ import annotations

import json
from functools import partial
from unittest import mock

import pytest
from celery.signals import task_prerun
from kombu.exceptions import OperationalError

from contacts import actions
from contacts.models import Contact
from messaging.autoreply import config as autoreply_config
from messaging.inbound.process import process_inbound_event
from messaging.models import Message
from messaging.tests.autoreply_fixtures import WELCOME
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaMessage, WaNotificationSent, WaWelcomeConfig
from wecare.tests.at_once import at_once

pytestmark = pytest.mark.django_db
NUMBER = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"  # the number the EUM samples are for


@pytest.fixture
def welcome_on(admin_user, settings, new_email):
    settings.STAFF_NOTIFICATION_EMAIL = new_email()  # DRY_RUN: recorded on the marker, not sent
    autoreply_config.save_welcome(NUMBER, WELCOME, user=admin_user)
    yield
    WaWelcomeConfig.get(autoreply_config.welcome_key(NUMBER)).delete()


@pytest.fixture
def handed_off():
    """The wamids handed to messaging.after_inbound, in order (observed as Celery runs it)."""
    seen: list[str] = []

    def record(sender=None, args=None, **_):
        if sender is not None and sender.name == "messaging.after_inbound":
            seen.append(args[0]["waMessageId"])

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


def deliver(body: str) -> None:
    process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-test"}, throw=True)


def marker(kind: str, phone: str) -> WaNotificationSent:
    return WaNotificationSent.get(f"NOTIFICATION#{kind}#CONV#{NUMBER.rsplit('-', 1)[-1]}#{phone}", consistent_read=True)


def outbound_of(contact_id: str) -> list[Message]:
    return [m for m in Message.by_contact.query(contact_id) if m.direction == "outbound"]


def test_a_stranger_writing_first_gets_no_welcome_because_writing_is_not_consent(welcome_on, fake_aws, new_phone):
    phone = new_phone()
    body, _ = inbound("inbound_text", phone=phone)
    deliver(body)
    [contact] = [c for c in Contact.by_phone.query(phone) if not c.is_deleted]
    assert contact.optInWhatsApp is False
    assert outbound_of(contact.contactId) == []
    refused = marker("welcome", phone)
    assert (refused.outcome, refused.detail) == ("refused", "CONSENT_NEVER_GIVEN")
    assert marker("inbound", phone).outcome == "dry_run"


def test_an_opted_in_contact_writing_first_is_welcomed_once(welcome_on, fake_aws, operator, new_phone):
    phone = new_phone()
    contact = actions.create_contact(
        {"phone": phone, "name": "Ravi", "optInWhatsApp": True}, user=operator, source="test"
    )
    body, _ = inbound("inbound_text", phone=phone)
    deliver(body)
    deliver(body)  # SNS delivers again: inbound sees a duplicate and does not call us
    second, _ = inbound("inbound_text", phone=phone)
    deliver(second)  # a second message: not the first any more
    [welcome] = outbound_of(contact.contactId)
    assert welcome.content == {"text": WELCOME["welcomeText"]} and welcome.sender == NUMBER and welcome.status == "sent"
    sent = json.loads(welcome.providerRequest[0]["params"]["message"])
    assert sent["to"] == phone.lstrip("+")
    assert marker("welcome", phone).outcome == "queued"


def test_a_broker_failure_at_the_hand_off_is_retried_and_the_customer_is_still_welcomed_once(
    welcome_on, fake_aws, operator, new_phone
):
    from messaging.autoreply.replies import after_inbound

    phone = new_phone()
    contact = actions.create_contact(
        {"phone": phone, "name": "Ravi", "optInWhatsApp": True}, user=operator, source="test"
    )
    body, sent = inbound("inbound_text", phone=phone)
    real_delay = after_inbound.delay
    handed: list[str] = []

    def broker_down_once(event):
        handed.append(event["waMessageId"])
        if len(handed) == 1:
            raise OperationalError("SQS unreachable")
        return real_delay(event)

    # The one seam: the broker. An SQS outage for one send cannot be staged in eager mode, so
    # after_inbound.delay fails once; everything behind it (the task, the welcome) runs for real.
    with mock.patch.object(after_inbound, "delay", side_effect=broker_down_once):
        # The first try records the message and fails at the hand-off; DeadLetterTask's retry
        # (run at once in eager mode, hence no throw=True) finds it recorded and hands it off.
        result = process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-test"})
    assert result.successful()

    assert handed == [sent["id"], sent["id"]]
    [welcome] = outbound_of(contact.contactId)
    assert welcome.content == {"text": WELCOME["welcomeText"]}
    assert WaMessage.get(WaMessage.key(sent["id"]), consistent_read=True).followUpDispatchedAt


def test_a_message_handed_on_twice_is_still_welcomed_once(welcome_on, fake_aws, operator, new_phone, handed_off):
    phone = new_phone()
    contact = actions.create_contact(
        {"phone": phone, "name": "Ravi", "optInWhatsApp": True}, user=operator, source="test"
    )
    body, sent = inbound("inbound_text", phone=phone)
    deliver(body)
    # As if the worker had died after the hand-off, before marking it done: the redelivery
    # hands the same message on again, and after_inbound's cooldown marker says no.
    WaMessage(pk=WaMessage.key(sent["id"])).update(actions=[WaMessage.followUpDispatchedAt.remove()])
    deliver(body)
    assert handed_off == [sent["id"], sent["id"]]
    [welcome] = outbound_of(contact.contactId)
    assert welcome.content == {"text": WELCOME["welcomeText"]}
    assert marker("welcome", phone).messageId == sent["id"]


def test_eight_deliveries_at_once_welcome_once(welcome_on, fake_aws, operator, new_phone):
    phone = new_phone()
    contact = actions.create_contact(
        {"phone": phone, "name": "Ravi", "optInWhatsApp": True}, user=operator, source="test"
    )
    body, _ = inbound("inbound_text", phone=phone)
    at_once(*[partial(deliver, body)] * 8)
    [welcome] = outbound_of(contact.contactId)
    assert welcome.content == {"text": WELCOME["welcomeText"]}
