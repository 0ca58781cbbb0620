"""The gate's consent refusals, each reached by the path that really writes it (pages, the API, a
CSV import, a customer's keyword or button, an unsubscribe link, the provider), on moto over
HTTP: the reason code and the sentence a person reads."""

from datetime import timedelta

import pytest
from django.conf import settings

from contacts import actions, consent
from contacts.models import Consent, Contact
from messaging.channels import Channel
from messaging.outbound.gate import Reason, channel_name, check, summary
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
SENDERS = {
    Channel.WHATSAPP: settings.WHATSAPP_PHONE_NUMBER_IDS[0],
    Channel.SMS: settings.SMS_POOL_ID,
    Channel.EMAIL: settings.SES_SENDER_EMAIL,
}


def verdict(contact: Contact, channel: Channel):
    stored = Contact.get(contact.contactId, consistent_read=True)  # as the send path reads it
    return check(stored, channel, SENDERS[channel], is_template=True, at=now(), tier_allows=lambda phone: True)


@pytest.fixture
def opted_in(operator, new_phone, new_email):
    def make() -> Contact:
        return actions.create_contact(
            {"phone": new_phone(), "email": new_email(), "optInWhatsApp": True, "optInSms": True, "optInEmail": True},
            user=operator,
            source="page",
        )

    return make


def when(contact: Contact, channel: Channel) -> str:
    return Contact.get(contact.contactId).consent(channel.value).changedAt.strftime("%Y-%m-%d %H:%M UTC")


@pytest.mark.parametrize("opt_in", [None, False])
def test_a_contact_created_without_consent_never_gave_it(operator, new_phone, opt_in):
    data = {"phone": new_phone()} | ({} if opt_in is None else {"optInSms": opt_in})
    contact = actions.create_contact(data, user=operator, source="page")
    result = verdict(contact, Channel.SMS)
    assert result.reason == Reason.CONSENT_NEVER_GIVEN
    assert result.message == "This contact has not agreed to SMS messages yet. Record their consent first."


def test_a_contact_imported_without_consent_never_gave_it(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": False}, user=operator, source="csv:IMP1")
    assert verdict(contact, Channel.WHATSAPP).reason == Reason.CONSENT_NEVER_GIVEN


@pytest.mark.parametrize(
    ("source", "evidence", "how"),
    [
        ("keyword", {"messageId": "wamid.S1", "keyword": "STOP"}, 'by writing "STOP" (message wamid.S1)'),
        ("keyword", {"messageId": "wamid.S2", "keyword": "रोकें"}, 'by writing "रोकें" (message wamid.S2)'),
        (
            "template_button",
            {"messageId": "wamid.B1", "button": "Stop promotions"},
            'by tapping the template button "Stop promotions" (message wamid.B1)',
        ),
        ("template_button", {"messageId": "wamid.B2"}, "by tapping a template's opt-out button (message wamid.B2)"),
    ],
)
def test_a_customer_withdrawal_says_when_and_how(opted_in, source, evidence, how):
    contact = consent.change(opted_in(), "whatsapp", False, source=source, actor=consent.CUSTOMER, evidence=evidence)
    result = verdict(contact, Channel.WHATSAPP)
    assert result.reason == Reason.CONSENT_WITHDRAWN
    assert result.message == (
        f"This contact no longer takes WhatsApp messages: the customer turned them off on "
        f"{when(contact, Channel.WHATSAPP)} {how}. Nothing more goes to them on WhatsApp until they agree again."
    )


def test_an_unsubscribe_link_names_the_link(opted_in):
    contact = consent.change(
        opted_in(), "email", False, source="unsubscribe_link", actor=consent.CUSTOMER, evidence={"linkId": "L-7"}
    )
    result = verdict(contact, Channel.EMAIL)
    assert result.reason == Reason.CONSENT_WITHDRAWN
    assert "the customer turned them off on" in result.message
    assert "through the unsubscribe link (L-7)." in result.message


def test_a_staff_member_on_the_page_the_inbox_or_the_api_is_named(opted_in, operator):
    page = actions.update_contact(opted_in().contactId, {"optInSms": False}, user=operator, source="page")
    assert verdict(page, Channel.SMS).message == (
        f"This contact no longer takes SMS messages: staff member {operator.username} turned them off on "
        f"{when(page, Channel.SMS)} on the contact's page. Nothing more goes to them on SMS until they agree again."
    )
    api = actions.update_contact(opted_in().contactId, {"optInEmail": False}, user=operator, source="api")
    result = verdict(api, Channel.EMAIL)
    assert result.reason == Reason.CONSENT_WITHDRAWN
    assert f"the API (token of {operator.username}) turned them off on {when(api, Channel.EMAIL)} through the API." in (
        result.message
    )
    inbox = actions.update_contact(
        opted_in().contactId, {"optInWhatsApp": False}, user=operator, source="inbox", evidence={"conversation": "c"}
    )
    assert f"staff member {operator.username} turned them off on" in verdict(inbox, Channel.WHATSAPP).message
    assert "from the inbox." in verdict(inbox, Channel.WHATSAPP).message


def test_an_import_that_turned_consent_off_is_named_with_its_file(opted_in, operator):
    contact = consent.change(
        opted_in(), "sms", False, source="import", actor=operator, evidence={"importId": "IMP9"}, detail="csv:IMP9"
    )
    result = verdict(contact, Channel.SMS)
    assert result.reason == Reason.CONSENT_WITHDRAWN
    assert f"a contact import by {operator.username} turned them off on" in result.message
    assert "with a contact import (IMP9)." in result.message


@pytest.mark.parametrize(
    ("channel", "source", "evidence", "what"),
    [
        (Channel.EMAIL, "bounce", {"feedbackId": "fb-1"}, "an SES hard bounce (feedback fb-1)"),
        (Channel.EMAIL, "complaint", {"feedbackId": "fb-2"}, "an SES complaint (feedback fb-2)"),
        (Channel.SMS, "sms_optout_list", {"number": "+1"}, "the number is on the SMS opt-out list"),
    ],
)
def test_the_provider_suppressed_it(opted_in, channel, source, evidence, what):
    contact = consent.change(opted_in(), channel.value, False, source=source, actor=consent.PROVIDER, evidence=evidence)
    result = verdict(contact, channel)
    assert result.reason == Reason.SUPPRESSED
    assert result.message == (
        f"The provider stopped {channel_name(channel)} to this contact: {what}, on {when(contact, channel)}. "
        "Nothing more goes to this address."
    )


def test_a_customer_who_opts_in_again_is_allowed(opted_in):
    contact = consent.change(opted_in(), "sms", False, source="keyword", actor=consent.CUSTOMER, evidence={})
    contact = consent.change(
        contact, "sms", True, source="keyword", actor=consent.CUSTOMER, evidence={"keyword": "START"}
    )
    assert verdict(contact, Channel.SMS).allowed


def test_records_written_before_the_gate_named_reasons_are_read_by_their_time(new_phone):
    created = now() - timedelta(days=3)
    old = {"changedBy": "alice", "source": "page"}
    at_creation = Contact(contactId="legacy-1", phone=new_phone(), createdAt=created, updatedAt=created)
    at_creation.consentSms = Consent(changedAt=created, **old)
    later = Contact(contactId="legacy-2", phone=new_phone(), createdAt=created, updatedAt=created)
    later.consentSms = Consent(changedAt=created + timedelta(days=1), **old)
    check_ = lambda c: check(c, Channel.SMS, settings.SMS_POOL_ID, is_template=False, at=now(), tier_allows=bool)  # noqa: E731
    assert check_(at_creation).reason == Reason.CONSENT_NEVER_GIVEN
    assert check_(later).reason == Reason.CONSENT_WITHDRAWN
    assert "staff member alice turned them off on" in check_(later).message


@pytest.mark.parametrize("value", [None, "true", 1, "yes"])
def test_a_missing_or_malformed_opt_in_is_a_refusal(new_phone, value):
    contact = Contact(contactId="odd", phone=new_phone(), createdAt=now(), updatedAt=now())
    contact.optInSms = value
    result = check(contact, Channel.SMS, settings.SMS_POOL_ID, is_template=False, at=now(), tier_allows=bool)
    assert result.reason == Reason.CONSENT_NEVER_GIVEN


def test_a_malformed_record_is_still_a_refusal(new_phone):
    contact = Contact(contactId="odd-record", phone=new_phone(), createdAt=now(), updatedAt=now(), optInSms=False)
    contact.consentSms = Consent(changedBy="customer", source="keyword", how="not-a-source", wasOptedIn=True)
    result = check(contact, Channel.SMS, settings.SMS_POOL_ID, is_template=False, at=now(), tier_allows=bool)
    assert result.reason == Reason.CONSENT_WITHDRAWN
    assert "the customer turned them off on at a time not recorded by an opt-out keyword." in result.message


def test_a_bulk_preview_summary_needs_no_contact():
    words = {"channel": "sms", "sender": "pool", "address": "phone number"}
    for reason in Reason:
        assert summary(reason, **words)  # every reason can be said for many contacts at once
