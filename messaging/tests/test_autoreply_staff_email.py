"""The staff email on inbound messages: sent through SES (moto, read back over its HTTP data
API), at most one per conversation per STAFF_NOTIFICATION_MINUTES, recorded, DRY_RUN honoured."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings

from messaging.autoreply.replies import after_inbound
from messaging.autoreply.staff_notification import notify_staff
from messaging.autoreply.trigger import InboundEvent
from messaging.outbound.senders import SendError
from messaging.tests.autoreply_fixtures import customer, event, marker
from messaging.whatsapp_table import WaNotificationSent
from wecare.dynamo import now

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(settings, new_email):
    """A staff address of this test's own, so the mail moto keeps from other tests is not counted."""
    settings.STAFF_NOTIFICATION_EMAIL = new_email()
    settings.STAFF_NOTIFICATION_MINUTES = 10
    settings.SITE_URL = "https://app.example.com"
    return settings.STAFF_NOTIFICATION_EMAIL


@pytest.fixture
def live(settings):
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01


def mail_to(address: str) -> list[dict]:
    """What moto's SES received for ``address``, in order."""
    data = json.loads(urllib.request.urlopen(f"{settings.AWS_ENDPOINT_URL}/moto-api/data.json").read())
    return [m for m in data["ses"]["Message"] if address in m["destinations"]["ToAddresses"]]


def run(payload: dict) -> dict:
    return after_inbound.apply(args=[payload]).get()


def test_one_email_per_conversation_per_ten_minutes(live, staff, operator, new_phone):
    contact = customer(operator, new_phone(), name="Meera Iyer")
    start = now() - timedelta(minutes=30)
    assert run(event(contact, text="Is my order ready?", at=start))["staff"] == "sent"
    assert (
        run(event(contact, text="Also, the invoice", at=start + timedelta(minutes=3), first=False))["staff"]
        == "cooldown"
    )
    assert run(event(contact, text="Hello?", at=start + timedelta(minutes=11), first=False))["staff"] == "sent"
    mails = mail_to(staff)
    assert len(mails) == 2
    first = mails[0]
    assert first["subject"] == f"WhatsApp from Meera Iyer ({contact.phone})"
    assert "WECARE.DIGITAL" in first["source"] and settings.SES_SENDER_EMAIL in first["source"]
    assert "Is my order ready?" in first["body"]
    quoted_key = "whatsapp~" + settings.WHATSAPP_PHONE_NUMBER_IDS[0].rsplit("-", 1)[-1] + "~%2B" + contact.phone[1:]
    assert f"https://app.example.com/dm/{quoted_key}/" in first["body"]
    seen = marker("inbound", contact)
    assert (seen.notificationType, seen.recipient, seen.outcome) == ("inbound", staff, "sent")
    assert json.loads(seen.detail)["request"][0]["params"]["Destination"] == {"ToAddresses": [staff]}


def test_each_conversation_has_its_own_allowance(live, staff, operator, new_phone):
    one, two = customer(operator, new_phone()), customer(operator, new_phone())
    assert run(event(one))["staff"] == "sent"
    assert run(event(two))["staff"] == "sent"
    assert len(mail_to(staff)) == 2


def test_in_dry_run_the_email_is_recorded_not_sent(staff, operator, new_phone):
    assert settings.SEND_MODE == "DRY_RUN"
    contact = customer(operator, new_phone())
    assert run(event(contact, text="Namaste"))["staff"] == "dry_run"
    assert mail_to(staff) == []
    record = json.loads(marker("inbound", contact).detail)
    params = record["request"][0]["params"]
    assert params["Destination"] == {"ToAddresses": [staff]}
    assert "Namaste" in params["Content"]["Simple"]["Body"]["Text"]["Data"]


def test_with_no_staff_address_nothing_is_sent(settings, operator, new_phone):
    settings.STAFF_NOTIFICATION_EMAIL = ""
    contact = customer(operator, new_phone())
    assert run(event(contact))["staff"] == "off"
    with pytest.raises(WaNotificationSent.DoesNotExist):
        marker("inbound", contact)


def test_a_media_message_says_what_it_was(live, staff, operator, new_phone):
    contact = customer(operator, new_phone())
    payload = {**event(contact, text=None), "messageType": "image"}
    assert run(payload)["staff"] == "sent"
    assert "[image message]" in mail_to(staff)[0]["body"]


def test_an_ses_refusal_gives_the_claim_back_so_a_retry_can_send(live, staff, settings, operator, new_phone):
    # This test calls the step, not the task: the task's retries and DLQ parking are
    # wecare.dlq's to test; here it is the claim that must not be left behind.
    contact = customer(operator, new_phone())
    payload = event(contact)
    verified = settings.SES_SENDER_EMAIL
    settings.SES_SENDER_EMAIL = "nobody@unverified.example"  # moto refuses an unverified sender
    with pytest.raises(SendError):
        notify_staff(InboundEvent.parse(payload))
    with pytest.raises(WaNotificationSent.DoesNotExist):
        marker("inbound", contact)
    settings.SES_SENDER_EMAIL = verified
    assert notify_staff(InboundEvent.parse(payload)) == "sent"
    assert len(mail_to(staff)) == 1
