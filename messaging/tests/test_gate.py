"""The safety gate, rule by rule. The property test over the whole decision is in
test_gate_property.py."""

from datetime import timedelta

import pytest
from django.conf import settings

from contacts.models import Contact
from messaging.channels import Channel
from messaging.outbound.gate import Reason, check
from wecare.dynamo import now

WA = settings.WHATSAPP_PHONE_NUMBER_IDS[0]


def contact(**fields) -> Contact:
    base = {
        "contactId": "c1",
        "phone": "+14155552671",
        "email": "a@example.com",
        "createdAt": now(),
        "updatedAt": now(),
    }
    return Contact(**{**base, **fields})


def verdict(c, channel=Channel.WHATSAPP, sender=WA, *, template=False, tier=True):
    return check(c, channel, sender, is_template=template, at=now(), tier_allows=lambda phone: tier)


def test_it_refuses_whatsapp_without_opt_in():
    assert verdict(contact(lastInboundMessageAt=now())).reason == Reason.CONSENT_NEVER_GIVEN


def test_it_refuses_a_sender_off_the_allowlist():
    assert (
        verdict(contact(optInWhatsApp=True, lastInboundMessageAt=now()), sender="phone-number-id-0000").reason
        == Reason.SENDER_NOT_ALLOWLISTED
    )


def test_it_refuses_free_form_whatsapp_outside_the_window_but_allows_a_template():
    stale = contact(optInWhatsApp=True, lastInboundMessageAt=now() - timedelta(hours=24, seconds=1))
    assert verdict(stale).reason == Reason.TEMPLATE_REQUIRED
    assert verdict(stale, template=True).allowed


def test_it_allows_free_form_inside_the_window():
    assert verdict(contact(optInWhatsApp=True, lastInboundMessageAt=now() - timedelta(hours=23))).allowed


def test_a_contact_who_never_wrote_has_no_window():
    assert verdict(contact(optInWhatsApp=True)).reason == Reason.TEMPLATE_REQUIRED


def test_a_business_initiated_template_needs_room_in_the_tier():
    assert verdict(contact(optInWhatsApp=True), template=True, tier=False).reason == Reason.TIER_LIMIT


def test_the_tier_is_not_consulted_inside_the_window():
    asked = []
    c = contact(optInWhatsApp=True, lastInboundMessageAt=now())
    check(c, Channel.WHATSAPP, WA, is_template=True, at=now(), tier_allows=lambda p: asked.append(p) or False)
    assert asked == []


@pytest.mark.parametrize(
    ("channel", "sender", "field"),
    [(Channel.SMS, settings.SMS_POOL_ID, "optInSms"), (Channel.EMAIL, settings.SES_SENDER_EMAIL, "optInEmail")],
)
def test_sms_and_email_need_their_own_opt_in(channel, sender, field):
    assert verdict(contact(optInWhatsApp=True), channel, sender).reason == Reason.CONSENT_NEVER_GIVEN
    assert verdict(contact(**{field: True}), channel, sender).allowed


def test_no_address_and_deleted_contacts_are_refused():
    assert (
        verdict(contact(email=None, optInEmail=True), Channel.EMAIL, settings.SES_SENDER_EMAIL).reason
        == Reason.NO_ADDRESS
    )
    assert (
        verdict(contact(optInSms=True, deletedAt=now()), Channel.SMS, settings.SMS_POOL_ID).reason
        == Reason.CONTACT_DELETED
    )
    assert verdict(None, Channel.SMS, settings.SMS_POOL_ID).reason == Reason.CONTACT_DELETED


def test_a_refusal_is_logged_with_contact_channel_and_reason(caplog):
    with caplog.at_level("WARNING", logger="messaging.gate"):
        verdict(contact(contactId="c-logged"), Channel.SMS, settings.SMS_POOL_ID)
    record = next(r for r in caplog.records if r.getMessage() == "send refused")
    assert (record.contact_id, record.channel, record.reason) == ("c-logged", "sms", "CONSENT_NEVER_GIVEN")
