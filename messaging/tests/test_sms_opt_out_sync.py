"""The platform's SMS consent and the SMS opt-out list agree, both ways (the local fake of
pinpoint-sms-voice-v2 over HTTP holds the list):

- AWS refusing a send for the list turns consent off, and the next send is refused by the gate
  before any provider call;
- a person opting a customer in again after the customer's STOP needs evidence, and with it the
  number leaves the list (page, API);
- a reply goes from the two-way number the customer wrote to.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts import actions, consent
from contacts.queries import consent_history, get_contact
from messaging.models import Message
from messaging.outbound.senders.sms import OPTED_OUT

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def live(settings, fake_aws_clean):
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    return fake_aws_clean


@pytest.fixture
def sms_contact(operator, new_phone):
    return actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")


def send(api, contact, **extra):
    return api.post(
        "/api/messages", {"contactId": contact.contactId, "channel": "sms", "text": "Hi", **extra}, content_type=JSON
    )


def listed(fake, settings) -> list[str]:
    return [e["number"] for e in fake.opted_out()[settings.SMS_OPT_OUT_LIST]]


def test_a_send_to_an_opted_out_number_fails_for_good_and_turns_consent_off(
    live, settings, client_for, operator, sms_contact
):
    live.opt_out(sms_contact.phone)  # the customer texted STOP to AWS, which we never heard of
    api = client_for(operator)

    response = send(api, sms_contact)
    assert response.status_code == 202
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "failed"
    assert message.errorDetails["code"] == OPTED_OUT
    assert message.errorDetails["providerCode"] == "ConflictException"
    assert message.errorDetails["permanent"] is True
    assert len(live.calls("SendTextMessage")) == 1  # permanent: not retried

    contact = get_contact(sms_contact.contactId)
    assert contact.optInSms is False
    [event, _given] = consent_history(contact.contactId, channel="sms")
    assert (event.optedIn, event.actor, event.source) == (False, "provider", "sms_optout_list")
    assert event.evidence == {"messageId": message.messageId, "reason": OPTED_OUT}

    # The next send is refused by the gate: no provider call at all.
    again = send(api, sms_contact)
    assert (again.status_code, again.json()["code"]) == (422, "SUPPRESSED")
    assert "SMS opt-out list" in again.json()["detail"]
    assert len(live.calls("SendTextMessage")) == 1


def test_the_same_refusal_in_a_bulk_send_turns_consent_off_too(live, settings, sms_contact):
    # dispatch is what the worker and bulk both call: the refusal is recorded there.
    from messaging.outbound import records, send

    live.opt_out(sms_contact.phone)
    message = records.create_queued(
        contact=sms_contact,
        channel="sms",
        sender=settings.SMS_POOL_ID,
        content={"text": "Sale!"},
        template_name=None,
        created_by="test",
        dry_run=False,
    )
    outcome = send.dispatch(sms_contact, message, tier_allows=lambda _: True, reserve=lambda *_: None)
    assert outcome.error is not None and outcome.error.details["code"] == OPTED_OUT
    assert get_contact(sms_contact.contactId).optInSms is False


def stop_from_customer(contact) -> None:
    """What an inbound STOP leaves: consent off by the customer's keyword, the number on the list."""
    from contacts import sms_opt_out_list

    consent.change(
        contact, "sms", False, source="keyword", actor=consent.CUSTOMER, evidence={"inboundMessageId": "in-1"}
    )
    sms_opt_out_list.add(contact.phone)


def test_a_staff_re_opt_in_without_evidence_is_refused_through_the_api(
    live, settings, client_for, operator, sms_contact
):
    stop_from_customer(sms_contact)

    response = client_for(operator).patch(
        f"/api/contacts/{sms_contact.contactId}", {"optInSms": True}, content_type=JSON
    )

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "optInSms"] and "SMS opt-out list" in error["msg"]
    assert get_contact(sms_contact.contactId).optInSms is False
    assert sms_contact.phone in listed(live, settings)
    assert live.calls("DeleteOptedOutNumber") == []


def test_a_staff_re_opt_in_with_evidence_takes_the_number_off_the_list(
    live, settings, client_for, operator, sms_contact
):
    stop_from_customer(sms_contact)
    note = "customer asked by phone on 2026-11-30"

    response = client_for(operator).patch(
        f"/api/contacts/{sms_contact.contactId}", {"optInSms": True, "consentEvidence": note}, content_type=JSON
    )

    assert response.status_code == 200, response.content
    assert get_contact(sms_contact.contactId).optInSms is True
    assert sms_contact.phone not in listed(live, settings)
    [newest, *_] = consent_history(sms_contact.contactId, channel="sms")
    assert (newest.optedIn, newest.actor, newest.source) == (True, operator.username, "api")
    assert newest.evidence == {"note": note, "smsOptOutList": "removed"}


def test_the_page_asks_for_evidence_and_then_takes_the_number_off_the_list(
    live, settings, client_for, operator, sms_contact
):
    stop_from_customer(sms_contact)
    page = client_for(operator)
    url = reverse("contacts:edit", args=[sms_contact.contactId])
    form = {"name": "", "phone": sms_contact.phone, "email": "", "optInSms": "on"}

    refused = page.post(url, form)
    assert refused.status_code == 200
    assert "SMS opt-out list" in refused.content.decode()
    assert get_contact(sms_contact.contactId).optInSms is False

    accepted = page.post(url, {**form, "consentEvidence": "customer asked in the shop on 2026-11-30"})
    assert accepted.status_code == 302
    assert get_contact(sms_contact.contactId).optInSms is True
    assert sms_contact.phone not in listed(live, settings)


def test_an_opt_in_that_was_never_withdrawn_by_the_customer_needs_no_evidence(
    live, settings, client_for, operator, sms_contact
):
    api, url = client_for(operator), f"/api/contacts/{sms_contact.contactId}"
    assert api.patch(url, {"optInSms": False}, content_type=JSON).status_code == 200  # a person opted them out
    assert api.patch(url, {"optInSms": True}, content_type=JSON).status_code == 200
    assert live.calls("DeleteOptedOutNumber") == []


def test_a_reply_goes_from_the_two_way_number_the_customer_wrote_to(live, settings, client_for, operator, sms_contact):
    settings.SMS_NUMBERS = ["+12125550101"]

    response = send(client_for(operator), sms_contact, sender="+12125550101")

    assert response.status_code == 202, response.content
    [call] = live.calls("SendTextMessage")
    assert call["params"]["OriginationIdentity"] == "+12125550101"


def test_a_number_that_is_not_ours_is_not_a_sender(live, settings, client_for, operator, sms_contact):
    settings.SMS_NUMBERS = ["+12125550101"]
    response = send(client_for(operator), sms_contact, sender="+12125550199")
    assert (response.status_code, response.json()["code"]) == (422, "SENDER_NOT_ALLOWLISTED")
    assert live.calls("SendTextMessage") == []
