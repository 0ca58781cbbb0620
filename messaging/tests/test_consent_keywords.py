"""A customer's STOP, START and "Stop promotions" on WhatsApp, end to end: a signed SNS notification
posted to the webhook (Celery eager runs the inbound task in the request), the contact's WhatsApp
opt-in changed with the customer as actor and the message as evidence, one confirmation through
the gate's consent-confirmation purpose, and nothing more for the same event twice."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from contacts import actions
from contacts.models import Contact
from contacts.queries import consent_history
from messaging.autoreply import config as autoreply_config
from messaging.autoreply import keyword_rules
from messaging.inbound.keywords import Intent, classify, classify_button
from messaging.models import Message
from messaging.tests.autoreply_fixtures import WELCOME
from messaging.tests.inbound_samples import entry_of, inbound, load, new_wamid, with_entry
from messaging.tests.sns_signing import notification, sns_test_certificates  # noqa: F401 (a fixture)
from messaging.whatsapp_table import WaConsentKeywords, WaMenuConfig, WaMessage, WaWelcomeConfig
from wecare.dynamo import now

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates", "default_rules")]
REAL = Path(__file__).parent / "fixtures" / "real"
NUMBER = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"  # the number the EUM samples are for
FULL_WIDTH_STOP = "\uff33\uff34\uff2f\uff30"  # "STOP" in full-width letters (NFKC makes it STOP)


@pytest.fixture
def default_rules():
    """Every test starts from the defaults; an admin's save in one test is gone after it."""

    def forget() -> None:
        for channel in keyword_rules.CHANNELS:
            with contextlib.suppress(WaConsentKeywords.DoesNotExist):
                WaConsentKeywords.get(keyword_rules.key(channel)).delete()

    forget()
    yield
    forget()


@pytest.fixture
def customer(operator, new_phone):
    """An opted-in WhatsApp contact (made by a person, so the history starts with the operator)."""

    def make(*, opted_in: bool = True) -> Contact:
        return actions.create_contact(
            {"phone": new_phone(), "name": "Asha Rao", "optInWhatsApp": opted_in}, user=operator, source="test"
        )

    return make


def text_event(phone: str, text: str) -> tuple[str, str]:
    """(SNS Message, wamid) of the EUM text sample with ``text`` as its body."""
    body, message = inbound("inbound_text", phone=phone)
    event = json.loads(body)
    entry = entry_of(event)
    entry["changes"][0]["value"]["messages"][0]["text"] = {"body": text}
    return json.dumps(with_entry(event, entry)), message["id"]


def button_event(phone: str, *, text: str | None = None, payload: str | None = None) -> tuple[str, str, dict]:
    """Meta's own quick-reply button webhook (fixtures/real, source in its README) from ``phone``,
    wrapped in an EUM event as EUM publishes it; the label and payload as given, else Meta's."""
    entry = copy.deepcopy(json.loads((REAL / "meta_template_quick_reply_button.json").read_text())["entry"][0])
    value = entry["changes"][0]["value"]
    message = value["messages"][0]
    wa_id = phone.lstrip("+")
    value["contacts"][0]["wa_id"] = wa_id
    message.update({"from": wa_id, "id": new_wamid(), "timestamp": str(int(now().timestamp()))})
    if text is not None:
        message["button"]["text"] = text
    if payload is not None:
        message["button"]["payload"] = payload
    return json.dumps(with_entry(load("inbound_text"), entry)), message["id"], message["button"]


def deliver(client, settings, body: str, envelope: dict | None = None) -> dict:
    """Post the signed notification (or post ``envelope`` again) and return it."""
    envelope = envelope or notification(body, topic_arn=settings.SNS_TOPIC_ARN)
    response = client.post("/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    assert response.status_code == 200
    return envelope


def fresh(contact: Contact) -> Contact:
    return Contact.get(contact.contactId, consistent_read=True)


def outbound_of(contact: Contact) -> list[Message]:
    return sorted(
        (m for m in Message.by_contact.query(contact.contactId) if m.direction == "outbound"),
        key=lambda m: m.messageId,
    )


def customer_events(contact: Contact) -> list[Any]:
    return [e for e in consent_history(contact.contactId, "whatsapp") if e.actor == "customer"]


# --- the words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "  Stop!! ",
        "sToP.",
        FULL_WIDTH_STOP,
        "Stop 🛑",
        "unsubscribe",
        "Opt-Out",
        "opt out",
        "बंद करें",
        "रोकें",
        "बंद",
        "Band Karo",
    ],
)
def test_an_opt_out_word_is_read_whatever_its_case_punctuation_width_or_script(text):
    assert classify("whatsapp", text) == Intent.OPT_OUT
    assert classify("sms", text) == Intent.OPT_OUT


@pytest.mark.parametrize("text", ["START", "start!", "Unstop", "शुरू", "शुरू करें", "shuru karo"])
def test_an_opt_in_word_is_read(text):
    assert classify("whatsapp", text) == Intent.OPT_IN


@pytest.mark.parametrize(
    "text",
    ["please don't stop", "stop sending me offers please", "STOPPED", "when does the shop close", "", None, "!!!"],
)
def test_a_word_inside_a_sentence_or_a_longer_word_is_not_a_keyword(text):
    assert classify("whatsapp", text) is None


def test_a_template_button_is_read_by_its_label_or_its_payload():
    assert classify_button("whatsapp", "Stop promotions", "Stop promotions") == Intent.OPT_OUT
    assert classify_button("whatsapp", "Not now", "STOP") == Intent.OPT_OUT
    assert classify_button("whatsapp", "Start", None) == Intent.OPT_IN
    assert classify_button("whatsapp", "Book a visit", "book") is None


# --- WhatsApp, through the signed webhook ---------------------------------------------------------


def test_stop_turns_whatsapp_off_with_the_customer_as_actor_and_confirms_once(
    client, settings, fake_aws_clean, customer
):
    contact = customer()
    body, wamid = text_event(contact.phone, "Stop!")

    envelope = deliver(client, settings, body)

    assert fresh(contact).optInWhatsApp is False
    [event] = customer_events(contact)
    assert (event.optedIn, event.source, event.actor) == (False, "keyword", "customer")
    assert event.evidence == {"messageId": wamid, "keyword": "Stop!"}
    [confirmation] = outbound_of(contact)
    assert confirmation.content["text"] == keyword_rules.defaults("whatsapp").opt_out_confirmation
    assert (confirmation.sender, confirmation.purpose) == (NUMBER, "CONSENT_CONFIRMATION")
    assert WaMessage.get(WaMessage.key(wamid), consistent_read=True).followUpDispatchedAt

    deliver(client, settings, body, envelope)  # SNS delivers the same notification again

    assert len(customer_events(contact)) == 1
    assert [m.messageId for m in outbound_of(contact)] == [confirmation.messageId]


def test_the_contact_page_shows_the_customer_withdrew_by_keyword_with_the_message_id(
    client, settings, fake_aws_clean, customer, viewer, client_for
):
    contact = customer()
    body, wamid = text_event(contact.phone, "STOP")
    deliver(client, settings, body)

    page = client_for(viewer).get(f"/contacts/{contact.contactId}/").content.decode()
    row = page[page.index('data-history="whatsapp"') :].split("</tr>")[1]  # the newest event
    assert "opted out" in row and "customer" in row and "keyword" in row
    assert f"messageId: {wamid}" in row and "keyword: STOP" in row


def test_a_second_stop_when_already_opted_out_changes_nothing_and_sends_no_second_confirmation(
    client, settings, fake_aws_clean, customer
):
    contact = customer()
    deliver(client, settings, text_event(contact.phone, "STOP")[0])
    deliver(client, settings, text_event(contact.phone, "stop")[0])  # another message, same wish

    assert fresh(contact).optInWhatsApp is False
    assert len(customer_events(contact)) == 1
    assert len(outbound_of(contact)) == 1


def test_stop_from_someone_never_opted_in_records_nothing_and_sends_nothing(client, settings, fake_aws_clean, customer):
    contact = customer(opted_in=False)
    deliver(client, settings, text_event(contact.phone, "STOP")[0])

    assert customer_events(contact) == []
    assert outbound_of(contact) == []


@pytest.mark.parametrize("text", ["बंद करें", f"  {FULL_WIDTH_STOP}  ", "Quit."])
def test_hindi_and_variants_opt_out_through_the_webhook(client, settings, fake_aws_clean, customer, text):
    contact = customer()
    _, wamid = body_and_id = text_event(contact.phone, text)
    deliver(client, settings, body_and_id[0])

    assert fresh(contact).optInWhatsApp is False
    assert customer_events(contact)[0].evidence == {"messageId": wamid, "keyword": text}


def test_a_sentence_containing_stop_is_an_ordinary_message(client, settings, fake_aws_clean, customer):
    contact = customer()
    deliver(client, settings, text_event(contact.phone, "please don't stop the deliveries")[0])

    assert fresh(contact).optInWhatsApp is True
    assert customer_events(contact) == []
    assert outbound_of(contact) == []


def test_start_after_stop_opts_in_again_with_its_own_evidence_and_confirmation(
    client, settings, fake_aws_clean, customer
):
    contact = customer()
    deliver(client, settings, text_event(contact.phone, "STOP")[0])
    body, wamid = text_event(contact.phone, "START")
    deliver(client, settings, body)

    assert fresh(contact).optInWhatsApp is True
    newest, oldest = customer_events(contact)
    assert (newest.optedIn, newest.source, newest.evidence) == (
        True,
        "keyword",
        {"messageId": wamid, "keyword": "START"},
    )
    assert oldest.optedIn is False
    texts = [m.content["text"] for m in outbound_of(contact)]
    rules = keyword_rules.defaults("whatsapp")
    assert texts == [rules.opt_out_confirmation, rules.opt_in_confirmation]


def test_the_stop_promotions_button_of_a_template_opts_out_with_the_button_as_evidence(
    client, settings, fake_aws_clean, customer
):
    contact = customer()
    body, wamid, _ = button_event(contact.phone, text="Stop promotions", payload="Stop promotions")
    envelope = deliver(client, settings, body)
    deliver(client, settings, body, envelope)

    assert fresh(contact).optInWhatsApp is False
    [event] = customer_events(contact)
    assert (event.source, event.actor) == ("template_button", "customer")
    assert event.evidence == {"messageId": wamid, "button": "Stop promotions", "payload": "Stop promotions"}
    assert len(outbound_of(contact)) == 1


def test_metas_own_button_example_unsubscribe_opts_out_as_a_template_button(client, settings, fake_aws_clean, customer):
    contact = customer()
    body, wamid, button = button_event(contact.phone)  # Meta's example as published: "Unsubscribe"
    deliver(client, settings, body)

    [event] = customer_events(contact)
    assert event.source == "template_button"
    assert event.evidence == {"messageId": wamid, "button": button["text"], "payload": button["payload"]}


def test_an_ordinary_template_button_changes_nothing(client, settings, fake_aws_clean, customer):
    contact = customer()
    deliver(client, settings, button_event(contact.phone, text="Track my order", payload="track-123")[0])

    assert fresh(contact).optInWhatsApp is True and customer_events(contact) == []


def test_a_crash_after_the_change_is_completed_by_the_redelivery(client, settings, fake_aws_clean, customer):
    """The change made, the worker lost before the confirmation: the follow-ups are not marked
    done, so SNS's redelivery confirms, once."""
    from contacts import consent

    contact = customer()
    body, wamid = text_event(contact.phone, "STOP")
    envelope = deliver(client, settings, body)
    item = WaMessage.get(WaMessage.key(wamid), consistent_read=True)
    # Stage the state a crash leaves: the follow-ups not marked done and no confirmation sent.
    item.update(actions=[WaMessage.followUpDispatchedAt.remove()])
    for message in outbound_of(contact):
        message.delete()

    deliver(client, settings, body, envelope)

    assert len(customer_events(contact)) == 1 and consent.CUSTOMER == "customer"
    assert len(outbound_of(contact)) == 1


def test_the_menu_does_not_answer_a_consent_keyword(client, settings, fake_aws_clean, customer, admin_user):
    contact = customer(opted_in=False)
    deliver(client, settings, text_event(contact.phone, "hello")[0])  # opens the window
    autoreply_config.save_menu(
        NUMBER,
        {
            "enabled": True,
            "buttonText": "Options",
            "bodyText": "How can we help?",
            "sections": [{"title": "", "rows": [{"id": "a", "title": "A"}]}],
            "triggerKeywords": ["start"],
            "cooldownHours": 0,
        },
        user=admin_user,
    )
    try:
        deliver(client, settings, text_event(contact.phone, "START")[0])
    finally:
        WaMenuConfig.get(autoreply_config.menu_key(NUMBER)).delete()

    assert fresh(contact).optInWhatsApp is True
    [confirmation] = outbound_of(contact)
    assert confirmation.content == {"text": keyword_rules.defaults("whatsapp").opt_in_confirmation}


def test_words_an_admin_saved_are_the_ones_read(client, settings, fake_aws_clean, customer, admin_user):
    keyword_rules.save(
        "whatsapp",
        {
            "optOutWords": ["halt"],
            "optInWords": ["resume"],
            "optOutButtons": [],
            "optOutConfirmation": "Halted.",
            "optInConfirmation": "Resumed.",
        },
        user=admin_user,
    )
    contact = customer()
    deliver(client, settings, text_event(contact.phone, "STOP")[0])
    assert fresh(contact).optInWhatsApp is True  # no longer a word on this channel
    deliver(client, settings, text_event(contact.phone, "Halt!")[0])

    assert fresh(contact).optInWhatsApp is False
    assert [m.content["text"] for m in outbound_of(contact)] == ["Halted."]


def test_a_stranger_whose_first_message_is_start_is_opted_in_and_confirmed_but_not_welcomed(
    client, settings, fake_aws_clean, new_phone, admin_user
):
    phone = new_phone()
    autoreply_config.save_welcome(NUMBER, WELCOME, user=admin_user)  # would greet a first contact
    try:
        body, wamid = text_event(phone, "Start")
        deliver(client, settings, body)
    finally:
        WaWelcomeConfig.get(autoreply_config.welcome_key(NUMBER)).delete()

    [contact] = [c for c in Contact.by_phone.query(phone) if not c.is_deleted]
    assert contact.optInWhatsApp is True  # START is the customer's own explicit request
    assert customer_events(contact)[0].evidence == {"messageId": wamid, "keyword": "Start"}
    assert [m.content for m in outbound_of(contact)] == [
        {"text": keyword_rules.defaults("whatsapp").opt_in_confirmation}
    ]


def test_a_start_redelivered_after_a_later_stop_does_not_opt_the_customer_in(
    client, settings, fake_aws_clean, customer
):
    """START's follow-ups not marked done (the worker lost after the change), then the customer's
    STOP; SNS's redelivery of the START must not undo that later STOP."""
    contact = customer()
    deliver(client, settings, text_event(contact.phone, "STOP")[0])
    body, wamid = text_event(contact.phone, "START")
    envelope = deliver(client, settings, body)
    WaMessage.get(WaMessage.key(wamid), consistent_read=True).update(actions=[WaMessage.followUpDispatchedAt.remove()])
    deliver(client, settings, text_event(contact.phone, "STOP")[0])
    assert fresh(contact).optInWhatsApp is False

    deliver(client, settings, body, envelope)

    assert fresh(contact).optInWhatsApp is False
