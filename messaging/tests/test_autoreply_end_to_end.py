"""From an EUM event to the welcome: inbound processing records the message and hands it to
messaging.after_inbound, which greets through the safety gate (Celery eager, as in all tests)."""

from __future__ import annotations

import json

import pytest

from contacts import actions
from contacts.models import Contact
from messaging import autoreply_config
from messaging.inbound.tasks import process_inbound_event
from messaging.models import Message
from messaging.tests.autoreply_fixtures import WELCOME
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaNotificationSent, WaWelcomeConfig

pytestmark = pytest.mark.django_db
NUMBER = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"  # the number the EUM samples are for


@pytest.fixture
def welcome_on(admin_user, settings, new_email):
    settings.STAFF_NOTIFICATION_EMAIL = new_email()  # DRY_RUN: recorded on the marker, not sent
    autoreply_config.save_welcome(NUMBER, WELCOME, user=admin_user)
    yield
    WaWelcomeConfig.get(autoreply_config.welcome_key(NUMBER)).delete()


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
    assert (refused.outcome, refused.detail) == ("refused", "OPT_IN_MISSING")
    assert marker("inbound", phone).outcome == "dry_run"


def test_an_opted_in_contact_writing_first_is_welcomed_once(welcome_on, fake_aws, operator, new_phone):
    phone = new_phone()
    contact = actions.create_contact({"phone": phone, "name": "Ravi", "optInWhatsApp": True}, user=operator, source="test")
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
