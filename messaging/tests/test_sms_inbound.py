"""Two-way SMS end to end: AWS's JSON (fixtures/aws/sms_inbound_two_way.json, with our numbers and
ids) signed as SNS signs it, through POST /webhooks/sns/, processed (eagerly) into a thread message
exactly once; opt-out and opt-in words change SMS consent and the local fake's SMS opt-out list
(over HTTP), and nothing is sent back."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from contacts.models import Contact, ContactUniqueKey
from contacts.queries import consent_history, holder_of
from messaging import threads
from messaging.inbound.sms_inbound import parse, process
from messaging.models import Message
from messaging.tests.sns_signing import (
    notification,
    sns_test_certificates,  # noqa: F401 - a fixture, used through pytestmark
)
from wecare import dlq

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
URL = "/webhooks/sns/"
BUSINESS = "+12125550101"  # the fixture's destinationNumber: one of our two-way numbers here
TEMPLATE = json.loads((Path(__file__).parent / "fixtures" / "aws" / "sms_inbound_two_way.json").read_text())


@pytest.fixture(autouse=True)
def our_numbers(settings):
    settings.SMS_NUMBERS = [BUSINESS]


def inbound_sms(customer: str, body: str, *, keyword: str = "", to: str = BUSINESS) -> str:
    """AWS's two-way SMS JSON as SNS carries it in Message, from ``customer`` to ``to``."""
    return json.dumps(
        {
            **TEMPLATE,
            "originationNumber": customer,
            "destinationNumber": to,
            "messageBody": body,
            "messageKeyword": keyword,
            "inboundMessageId": str(uuid.uuid4()),
        }
    )


def post(client, message: str, settings) -> dict:
    envelope = notification(message, topic_arn=settings.SNS_TOPIC_ARN)
    response = client.post(URL, data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    assert response.status_code == 200
    return envelope


def contact_of(number: str) -> Contact:
    contact = holder_of(ContactUniqueKey.for_phone(number), consistent_read=True)
    assert contact is not None
    return contact


def thread_messages(customer: str, business: str = BUSINESS) -> list[Message]:
    return list(Message.by_thread.query(threads.sms_thread_id(business, customer)))


def test_an_inbound_sms_becomes_one_thread_message_even_when_sns_delivers_it_twice(
    client, settings, fake_aws_clean, new_phone
):
    customer = new_phone()
    message = inbound_sms(customer, "Is my order ready?")

    post(client, message, settings)
    post(client, message, settings)  # SNS redelivering the same notification
    process(message)  # and a replay from the DLQ

    [stored] = thread_messages(customer)
    assert (stored.channel, stored.direction, stored.status, stored.sender) == ("sms", "inbound", "received", BUSINESS)
    sent = json.loads(message)
    assert stored.content == {
        "text": "Is my order ready?",
        "from": customer,
        "to": BUSINESS,
        "previousPublishedMessageId": sent["previousPublishedMessageId"],
        "inboundMessageId": sent["inboundMessageId"],
    }
    thread = threads.Thread.get(threads.sms_thread_id(BUSINESS, customer), consistent_read=True)
    assert (thread.messageCount, thread.unreadCount, thread.lastPreview) == (1, 1, "Is my order ready?")
    assert (thread.business, thread.customer, thread.contactId) == (BUSINESS, customer, stored.contactId)
    assert fake_aws_clean.calls("SendTextMessage") == []  # nothing is sent back


def test_a_new_customer_becomes_a_contact_without_any_opt_in(client, settings, fake_aws_clean, new_phone):
    customer = new_phone()
    post(client, inbound_sms(customer, "Hello"), settings)

    contact = contact_of(customer)
    assert (contact.optInSms, contact.optInWhatsApp, contact.optInEmail) == (False, False, False)
    # SMS is not WhatsApp: a text message opens no WhatsApp 24-hour window.
    assert contact.lastInboundMessageAt is None


def test_an_sms_to_a_number_we_do_not_list_is_recorded_with_a_warning(
    client, settings, fake_aws_clean, new_phone, caplog
):
    customer, elsewhere = new_phone(), "+12125550199"
    with caplog.at_level("WARNING", logger="messaging.inbound.sms_inbound"):
        post(client, inbound_sms(customer, "Hi", to=elsewhere), settings)

    [stored] = thread_messages(customer, elsewhere)
    assert stored.sender == elsewhere
    assert any(r.getMessage() == "inbound sms to a number not in SMS_NUMBERS" for r in caplog.records)


def test_the_thread_counts_each_message_once(client, settings, fake_aws_clean, new_phone):
    customer = new_phone()
    first, second = inbound_sms(customer, "One"), inbound_sms(customer, "Two")
    for message in (first, second, first, second):
        post(client, message, settings)

    assert sorted(m.content["text"] for m in thread_messages(customer)) == ["One", "Two"]
    thread = threads.Thread.get(threads.sms_thread_id(BUSINESS, customer), consistent_read=True)
    assert (thread.messageCount, thread.unreadCount) == (2, 2)


@pytest.mark.parametrize("word", ["STOP", "Stop!", "  stop. ", "UNSUBSCRIBE"])
def test_stop_turns_sms_consent_off_with_its_evidence_and_lists_the_number(
    client, settings, fake_aws_clean, new_phone, word
):
    customer = new_phone()
    post(client, inbound_sms(customer, "Hi"), settings)
    contact = contact_of(customer)
    Contact(contactId=contact.contactId).update(actions=[Contact.optInSms.set(True)])  # opted in earlier
    message = inbound_sms(customer, word)

    post(client, message, settings)
    post(client, message, settings)  # the same event twice changes nothing

    assert contact_of(customer).optInSms is False
    [event] = consent_history(contact.contactId, channel="sms")
    assert (event.optedIn, event.actor, event.source) == (False, "customer", "keyword")
    assert event.evidence == {"inboundMessageId": json.loads(message)["inboundMessageId"], "keyword": word.strip()}
    assert customer in [e["number"] for e in fake_aws_clean.opted_out()[settings.SMS_OPT_OUT_LIST]]
    assert len(fake_aws_clean.calls("PutOptedOutNumber")) == 1
    assert fake_aws_clean.calls("SendTextMessage") == []  # AWS answers keywords; the platform sends nothing


def test_a_stop_aws_already_listed_keeps_the_customers_own_entry(client, settings, fake_aws_clean, new_phone):
    # AWS lists a number itself for its registered STOP keyword (EndUserOptedOut true).
    customer = new_phone()
    fake_aws_clean.opt_out(customer)

    post(client, inbound_sms(customer, "STOP", keyword="STOP"), settings)

    [entry] = [e for e in fake_aws_clean.opted_out()["Default"] if e["number"] == customer]
    assert entry["endUserOptedOut"] is True
    assert fake_aws_clean.calls("PutOptedOutNumber") == []


def test_start_opts_the_customer_in_again_and_takes_the_number_off_the_list(
    client, settings, fake_aws_clean, new_phone
):
    customer = new_phone()
    post(client, inbound_sms(customer, "STOP"), settings)
    contact = contact_of(customer)
    assert customer in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]
    start = inbound_sms(customer, "Start")

    post(client, start, settings)
    post(client, start, settings)

    assert contact_of(customer).optInSms is True
    [newest, *_] = consent_history(contact.contactId, channel="sms")
    assert (newest.optedIn, newest.actor, newest.source) == (True, "customer", "keyword")
    assert newest.evidence["inboundMessageId"] == json.loads(start)["inboundMessageId"]
    assert customer not in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]
    assert fake_aws_clean.calls("SendTextMessage") == []


def test_an_old_stop_replayed_after_start_changes_nothing(client, settings, fake_aws_clean, new_phone):
    customer = new_phone()
    stop = inbound_sms(customer, "STOP")
    post(client, stop, settings)
    post(client, inbound_sms(customer, "START"), settings)

    process(stop)  # the STOP replayed from the DLQ, or redelivered late

    assert contact_of(customer).optInSms is True
    assert customer not in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]


def test_a_word_inside_a_sentence_is_not_a_keyword(client, settings, fake_aws_clean, new_phone):
    customer = new_phone()
    post(client, inbound_sms(customer, "Please don't stop sending my reminders"), settings)

    assert consent_history(contact_of(customer).contactId, channel="sms") == []
    assert fake_aws_clean.calls("PutOptedOutNumber") == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"originationNumber": "+14155550100", "inboundMessageId": "x"}), "destinationNumber"),
        (json.dumps({**TEMPLATE, "inboundMessageId": ""}), "inboundMessageId"),
        (json.dumps({**TEMPLATE, "originationNumber": 14155550100}), "originationNumber"),
        (json.dumps({**TEMPLATE, "messageBody": ["a"]}), "messageBody"),
    ],
)
def test_a_malformed_notification_is_parked_on_the_dlq_with_its_reason(client, settings, fake_aws_clean, body, reason):
    from messaging.inbound.sms_inbound import process_sms_inbound  # the task itself, eager

    process_sms_inbound.delay(message=body, sns_message_id="sns-malformed")

    wanted = dlq.fingerprint("messaging.process_sms_inbound", [], {"message": body, "sns_message_id": "sns-malformed"})
    [parked] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    assert json.loads(parked.payload)["error"].startswith("PermanentError: ")
    assert reason in json.loads(parked.payload)["error"]


def test_parse_reads_the_published_aws_example():
    sms = parse(json.dumps(TEMPLATE))
    assert (sms.customer, sms.business, sms.keyword, sms.body) == ("+14255550182", BUSINESS, "JOIN", "EXAMPLE")
    assert sms.inbound_message_id == TEMPLATE["inboundMessageId"]


def test_a_registered_keyword_aws_matched_at_the_start_counts_with_its_word_as_evidence(
    client, settings, fake_aws_clean, new_phone
):
    customer = new_phone()
    post(client, inbound_sms(customer, "Hi"), settings)
    contact = contact_of(customer)
    Contact(contactId=contact.contactId).update(actions=[Contact.optInSms.set(True)])

    post(client, inbound_sms(customer, "stop sending these please", keyword="STOP"), settings)

    assert contact_of(customer).optInSms is False
    [event] = consent_history(contact.contactId, channel="sms")
    assert event.evidence["keyword"] == "STOP"


@pytest.mark.parametrize(("out_word", "in_word"), [("बंद करें", "शुरू"), ("band karo", "Shuru!")])
def test_hindi_words_opt_out_and_in_and_keep_the_list_in_step(
    client, settings, fake_aws_clean, new_phone, out_word, in_word
):
    # Words AWS does not know: the platform lists the number itself, and takes it off again.
    customer = new_phone()
    post(client, inbound_sms(customer, "Namaste"), settings)
    contact = contact_of(customer)
    Contact(contactId=contact.contactId).update(actions=[Contact.optInSms.set(True)])

    post(client, inbound_sms(customer, out_word), settings)
    assert contact_of(customer).optInSms is False
    assert customer in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]
    [withdrawn] = consent_history(contact.contactId, channel="sms")
    assert withdrawn.evidence["keyword"] == out_word

    post(client, inbound_sms(customer, in_word), settings)
    assert contact_of(customer).optInSms is True
    assert customer not in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]
    assert fake_aws_clean.calls("SendTextMessage") == []


def test_the_words_an_admin_saved_for_sms_are_the_ones_read(client, settings, fake_aws_clean, new_phone, admin_user):
    from messaging.autoreply import keyword_rules
    from messaging.whatsapp_table import WaConsentKeywords

    customer = new_phone()
    post(client, inbound_sms(customer, "Hi"), settings)
    contact = contact_of(customer)
    Contact(contactId=contact.contactId).update(actions=[Contact.optInSms.set(True)])
    keyword_rules.save(
        "sms",
        {
            "optOutWords": ["ruko"],
            "optInWords": ["chalu"],
            "optOutButtons": [],
            "optOutConfirmation": "",
            "optInConfirmation": "",
        },
        user=admin_user,
    )
    try:
        post(client, inbound_sms(customer, "STOP"), settings)  # not one of this channel's words now
        assert contact_of(customer).optInSms is True
        post(client, inbound_sms(customer, "Ruko."), settings)
        assert contact_of(customer).optInSms is False
    finally:
        WaConsentKeywords.get(keyword_rules.key("sms")).delete()  # the defaults for the other tests


def test_a_start_retried_after_a_later_stop_does_not_opt_the_customer_in(
    client, settings, fake_aws_clean, new_phone, monkeypatch
):
    # START is recorded but its consent step fails (DynamoDB or AWS throttled); before the retry
    # the customer's STOP is processed in full. The retried START must not undo the later STOP.
    from messaging.inbound import sms_inbound

    customer = new_phone()
    post(client, inbound_sms(customer, "STOP"), settings)
    start = inbound_sms(customer, "START")
    real_apply = sms_inbound._apply

    def failing(*args, **kwargs):
        raise RuntimeError("throttled")

    monkeypatch.setattr(sms_inbound, "_apply", failing)
    with pytest.raises(RuntimeError):
        process(start)
    monkeypatch.setattr(sms_inbound, "_apply", real_apply)
    process(inbound_sms(customer, "STOP"))  # the customer's later word (nothing to change: still off)
    post(client, inbound_sms(customer, "START"), settings)
    post(client, inbound_sms(customer, "STOP"), settings)  # on, then off again: the latest is STOP

    process(start)  # the first START's retry

    assert contact_of(customer).optInSms is False
    assert customer in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]


def test_a_stop_whose_listing_failed_is_listed_on_its_retry(client, settings, fake_aws_clean, new_phone, monkeypatch):
    from contacts import sms_opt_out_list

    customer = new_phone()
    post(client, inbound_sms(customer, "START"), settings)
    stop = inbound_sms(customer, "STOP")
    real_add = sms_opt_out_list.add

    def failing(number):
        raise RuntimeError("throttled")

    monkeypatch.setattr(sms_opt_out_list, "add", failing)
    with pytest.raises(RuntimeError):
        process(stop)  # consent off, the list not yet
    monkeypatch.setattr(sms_opt_out_list, "add", real_add)

    process(stop)

    assert contact_of(customer).optInSms is False
    assert customer in [e["number"] for e in fake_aws_clean.opted_out()["Default"]]
