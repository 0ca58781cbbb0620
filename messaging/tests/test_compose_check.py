"""The composer that prevents refusals (messaging.outbound.compose_check, the contact page's compose
panel, its check and consent endpoints) and what was sent as it was read (history, threads, the
Templates page, the bulk preview): below the browser, with the Django client and the actions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from contacts import actions
from contacts.models import Contact
from messaging import conversation_index, conversations
from messaging.models import Message
from messaging.outbound import compose_check, send, template_catalog
from messaging.outbound.records import wa_message_item
from messaging.outbound.senders import SendResult
from messaging.templatetags.sent_text import earlier_template_text
from messaging.whatsapp_table import WaConversation, WaMessage, WaTemplate
from wecare.dynamo import now

pytestmark = pytest.mark.django_db

WELCOME = "welcome_message|en_US"


@pytest.fixture
def templates(fake_aws_clean):
    template_catalog.sync_templates()


@pytest.fixture
def asha(operator, new_phone) -> Contact:
    """A phone, no email, no consent anywhere, last wrote 30 hours ago (no WhatsApp window)."""
    contact = actions.create_contact({"name": "Asha Rao", "phone": new_phone()}, user=operator, source="test")
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(hours=30))])
    return Contact.get(contact.contactId)


def opt_in(contact: Contact, operator, **fields) -> Contact:
    return actions.update_contact(contact.contactId, fields, user=operator, source="test")


def words(html: str) -> str:
    """What a person reads: the page without its tags (attributes hold the codes)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- compose_check.check ----------------------------------------------------------------------


def test_no_consent_is_refused_in_plain_words_with_the_consent_form_as_its_fix(asha):
    result = compose_check.check(asha, "whatsapp", "template", None)

    assert not result.allowed and result.channel_closed and result.records_consent
    assert result.sentence == "Asha Rao has not agreed to WhatsApp messages yet. Record their consent first."
    assert result.fix_label == "Record their WhatsApp consent"
    assert result.fix_url == f"/contacts/{asha.contactId}/?consent=whatsapp#compose"  # where the form is
    assert result.code == "CONSENT_NEVER_GIVEN"


def test_no_address_names_the_address_to_add(asha):
    result = compose_check.check(asha, "email", "text", None)

    assert not result.allowed and result.channel_closed and not result.records_consent
    assert result.sentence == "Asha Rao has no email address for Email. Add one on their page first."
    assert (result.fix_label, result.fix_url) == ("Add an email address", f"/contacts/{asha.contactId}/edit/")


def test_outside_the_window_whatsapp_offers_only_templates_and_says_why(asha, operator):
    asha = opt_in(asha, operator, optInWhatsApp=True)

    text = compose_check.check(asha, "whatsapp", "text", None)
    template = compose_check.check(asha, "whatsapp", "template", None)

    assert not text.allowed and not text.channel_closed  # the channel is open, for a template
    assert text.sentence.startswith("Asha Rao has not written on WhatsApp in the last 24 hours")
    assert template.allowed and template.kinds_allowed == ("template",)
    assert template.note == (
        "Asha Rao has not written on WhatsApp in the last 24 hours, so WhatsApp takes only an approved template."
    )


def test_inside_the_window_every_kind_is_offered(asha, operator):
    asha = opt_in(asha, operator, optInWhatsApp=True)
    asha.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=5))])

    result = compose_check.check(Contact.get(asha.contactId), "whatsapp", "text", None)

    assert result.allowed and result.kinds_allowed == ("text", "template", "media") and result.note == ""


def test_a_deleted_contact_has_nothing_to_fix(asha, operator):
    actions.delete_contact(asha.contactId, user=operator)

    result = compose_check.check(send.load_contact(asha.contactId), "sms", "text", None)

    assert not result.allowed and result.code == "CONTACT_DELETED" and result.fix_url is None


# --- the compose panel -------------------------------------------------------------------------


def test_the_panel_disables_closed_channels_with_their_reason_fix_and_no_codes(client_for, operator, asha):
    page = client_for(operator).get(f"/messages/contact/{asha.contactId}/compose/").content.decode()

    assert re.search(r'<option value="email"[^>]*disabled>Email \(not available\)', page)
    assert re.search(r'<option value="sms"[^>]*disabled>', page)
    assert f'<a href="/contacts/{asha.contactId}/edit/">Add an email address</a>' in page
    assert "<summary>Record their WhatsApp consent</summary>" in page
    assert re.search(r'<button type="submit" name="action" value="send" disabled', page)
    assert "CONSENT_NEVER_GIVEN" not in words(page) and "NO_ADDRESS" not in words(page)


def test_the_check_keeps_send_off_until_the_template_has_its_values(client_for, operator, asha, templates):
    opt_in(asha, operator, optInWhatsApp=True)
    check = f"/messages/contact/{asha.contactId}/compose/check/"
    data = {"channel": "whatsapp", "kind": "template", "template": WELCOME}
    data["sender"] = settings.WHATSAPP_PHONE_NUMBER_IDS[0]

    none = client_for(operator).post(check, data).content.decode()
    both = client_for(operator).post(check, {**data, "body_1": "Asha", "body_2": "WECARE"}).content.decode()

    assert "This template needs 2 values; you gave none." in none and 'value="send" disabled' in none
    assert 'data-verdict="allowed"' in both and "disabled" not in both


def test_an_oversized_template_value_is_refused_with_a_sentence_not_a_server_error(
    client_for, operator, asha, templates
):
    """A value field has no length limit in the browser; the send used to try to record a message
    larger than DynamoDB's item size and answered 500."""
    opt_in(asha, operator, optInWhatsApp=True)
    data = {"channel": "whatsapp", "kind": "template", "template": WELCOME, "action": "send"}
    data |= {"sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0], "body_1": "x" * 600_000, "body_2": "WECARE"}

    answer = client_for(operator).post(f"/messages/contact/{asha.contactId}/compose/", data)

    assert answer.status_code == 422
    assert "Shorten the values: value 1 is longer than 1,024 characters." in answer.content.decode()
    assert not list(Message.by_contact.query(asha.contactId))  # nothing recorded, nothing sent


def test_the_check_says_the_gates_refusal_and_keeps_send_off(client_for, operator, asha):
    check = f"/messages/contact/{asha.contactId}/compose/check/"
    answer = client_for(operator).post(check, {"channel": "sms", "sender": settings.SMS_POOL_ID, "text": "Hi"})

    body = answer.content.decode()
    assert answer.status_code == 200 and 'data-verdict="CONSENT_NEVER_GIVEN"' in body
    assert "Asha Rao has not agreed to SMS messages yet. Record their consent first." in body
    assert 'value="send" disabled' in body


def test_the_panel_draws_a_field_per_variable_and_the_template_with_missing_values_marked(
    client_for, operator, asha, templates
):
    opt_in(asha, operator, optInWhatsApp=True)
    page = client_for(operator).post(
        f"/messages/contact/{asha.contactId}/compose/",
        {"channel": "whatsapp", "kind": "template", "template": WELCOME, "body_1": "Asha"},
    )

    html = page.content.decode()
    assert 'name="body_1" value="Asha" data-fills="body-1"' in html
    assert 'name="body_2" value="" data-fills="body-2"' in html and 'placeholder="e.g. WECARE.DIGITAL"' in html
    missing = '<mark class="slot missing" data-fill="body-2" data-missing="[value 2 missing]">[value 2 missing]</mark>'
    assert missing in html
    assert "one per line" not in html


def test_a_forced_send_on_a_closed_channel_is_still_refused_by_the_gate(client_for, operator, asha):
    response = client_for(operator).post(
        f"/messages/contact/{asha.contactId}/compose/",
        {"channel": "sms", "sender": settings.SMS_POOL_ID, "text": "Hi", "action": "send"},
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-code="CONSENT_NEVER_GIVEN"' in page
    assert "Not sent. Asha Rao has not agreed to SMS messages yet." in words(page)
    assert list(Message.by_contact.query(asha.contactId)) == []


def test_consent_recorded_in_the_composer_needs_its_note_and_opens_the_channel(client_for, operator, asha):
    url = f"/messages/contact/{asha.contactId}/compose/consent/"

    refused = client_for(operator).post(url, {"channel": "sms", "confirmed": "on"})
    assert refused.status_code == 422 and "Say how the customer agreed" in refused.content.decode()
    assert Contact.get(asha.contactId).optInSms is not True

    recorded = client_for(operator).post(url, {"channel": "sms", "confirmed": "on", "note": "Agreed on the phone"})
    assert recorded.status_code == 200
    assert 'data-consented="sms"' in recorded.content.decode()
    assert 'data-channel="sms"' in recorded.content.decode()
    contact = Contact.get(asha.contactId)
    assert contact.optInSms is True
    assert contact.consent("sms").evidence["note"] == "Agreed on the phone"
    assert contact.consent("sms").changedBy == operator.username


# --- what was sent, as it was read -------------------------------------------------------------


def send_welcome(contact: Contact, operator) -> Message:
    return send.send_message(
        {
            "contactId": contact.contactId,
            "channel": "whatsapp",
            "template": {"name": "welcome_message", "language": "en_US", "parameters": {"body": ["Asha", "WECARE"]}},
        },
        user=operator,
        source="test",
    )


def test_a_sent_template_is_recorded_and_shown_as_the_text_the_customer_read(client_for, operator, asha, templates):
    asha = opt_in(asha, operator, optInWhatsApp=True)

    message = send_welcome(asha, operator)

    wamid = Message.get(message.messageId, consistent_read=True).whatsappMessageId
    item = WaMessage.get(WaMessage.key(wamid), consistent_read=True)
    assert item.templateName == "welcome_message"
    assert item.textBody == (
        "Welcome to WECARE.DIGITAL\nHello Asha, thank you for choosing WECARE. Reply to this message any time.\n"
        "Reply STOP to opt out\n[Get started] [Talk to us]"
    )
    assert item.preview == "Hello Asha, thank you for choosing WECARE. Reply to this message any time."
    history = client_for(operator).get(f"/messages/contact/{asha.contactId}/").content.decode()
    assert "Hello Asha, thank you for choosing WECARE." in history and "template <strong>" not in history


def test_a_conversation_we_started_opens_in_the_inbox_before_the_customer_writes(client_for, operator, asha, templates):
    """A template sent to a customer who never wrote makes an inbox row; WhatsApp's
    CONV# item only comes with their first message. The row used to open a 404."""
    asha = opt_in(asha, operator, optInWhatsApp=True)
    send_welcome(asha, operator)
    key = conversation_index.key_for_whatsapp(
        WaConversation.key(settings.WHATSAPP_PHONE_NUMBER_IDS[0].rsplit("-", 1)[-1], asha.phone)
    )
    client = client_for(operator)

    page = client.get(f"/dm/{key}/")

    assert page.status_code == 200
    assert "Hello Asha, thank you for choosing WECARE." in page.content.decode()
    assert client.get(f"/dm/{key}/latest/").status_code == 200
    assert client.post(f"/dm/{key}/archive/").status_code == 404  # nothing to archive yet; never 500
    assert not conversations.exists(WaConversation.key(key.split("~")[1], asha.phone))  # nothing was saved


def test_a_template_recorded_before_its_text_was_kept_is_rendered_from_its_message(operator, asha, templates):
    asha = opt_in(asha, operator, optInWhatsApp=True)
    message = send_welcome(asha, operator)
    earlier = WaMessage(pk="MSG#wamid.earlier", type="template", preview="welcome_message", messageId=message.messageId)

    assert earlier_template_text(earlier).startswith("Welcome to WECARE.DIGITAL\nHello Asha,")
    shown = render_to_string("messaging/inbox/types/_text.html", {"m": earlier})
    assert "Hello Asha, thank you for choosing WECARE." in shown


def test_the_templates_page_shows_each_templates_text_with_its_variables_marked(client_for, viewer, templates):
    page = client_for(viewer).get("/messages/templates/").content.decode()

    row = re.search(r'<tr data-template-row="seasonal_offer">.*?</tr>', page, flags=re.S)
    assert row and "A season of care" in row.group() and "Stop promotions" in row.group()
    assert '<mark class="slot" data-fill="body-1" data-missing="[value 1 missing]">{{1}}</mark>' in row.group()
    assert '<span class="sr-label">Language: </span>' in row.group()  # labelled when the table stacks


def test_a_document_shows_its_name_and_size_or_says_the_size_is_unknown():
    sized = WaMessage(pk="MSG#d1", type="document", filename="invoice.pdf", fileSize=245_760)
    unsized = WaMessage(pk="MSG#d2", type="document", filename="scan.pdf")
    shown = {"media_url": "https://bucket.example/invoice.pdf"}

    with_size = render_to_string("messaging/inbox/types/_document.html", {"m": sized, "s": shown})
    without = render_to_string("messaging/inbox/types/_document.html", {"m": unsized, "s": shown})

    assert "invoice.pdf" in with_size and "240.0\xa0KB" in with_size
    assert "scan.pdf" in without and "size unknown" in without


def test_a_video_plays_inline():
    shown = render_to_string(
        "messaging/inbox/types/_video.html",
        {"m": WaMessage(pk="MSG#v1", type="video"), "s": {"media_url": "https://bucket.example/clip.mp4"}},
    )

    assert '<video class="media" controls preload="metadata" src="https://bucket.example/clip.mp4">' in shown


def test_a_template_that_cannot_be_rendered_never_costs_the_record_of_a_sent_message():
    # A definition changed by a sync between the send and its record, and malformed: the
    # message is already sent, so its record keeps the name and the thread renders it later.
    name = f"broken_{now().timestamp():.0f}"
    broken = WaTemplate(
        pk=WaTemplate.key("waba", name, "en_US"),
        templateName=name,
        templateLanguage="en_US",
        templateStatus="PAUSED",  # never offered: other tests list the approved ones
        receivedAt=now().isoformat(),  # what the catalog's index sorts on
        components=[{"type": "BODY", "text": 5}],  # a body whose text is not text
    )
    broken.save()
    message = Message(
        messageId="01BROKENTEMPLATE0000000000",
        contactId="c-1",
        channel="whatsapp",
        sender=settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        templateName=name,
        content={"template": {"name": name, "language": "en_US", "parameters": {"body": ["Asha"]}}},
    )

    try:
        item = wa_message_item(message, SendResult("wamid.broken"), to="+14155550100", at=now().isoformat())
    finally:
        broken.delete()

    assert (item.preview, item.textBody, item.templateName) == (name, None, name)


def test_a_link_from_another_composer_opens_the_consent_form_of_its_channel(client_for, operator, asha):
    link = compose_check.check(asha, "sms", "text", None).fix_url
    page = client_for(operator).get(
        f"/messages/contact/{asha.contactId}/compose/", headers={"HX-Current-URL": f"http://testserver{link}"}
    )

    html = page.content.decode()
    sms = html.split('data-channel-closed="sms"', 1)[1].split("</details>", 1)[0]
    whatsapp = html.split('data-channel-closed="whatsapp"', 1)[1].split("</details>", 1)[0]
    assert "<details open>" in sms and "<details open>" not in whatsapp
