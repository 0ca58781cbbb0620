"""The whole send path in DRY_RUN: API -> gate -> queued -> worker (eager here) -> recorded."""

from datetime import timedelta

import pytest
from django.conf import settings

from contacts import actions
from contacts.models import Contact
from messaging.models import Message
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def api(client_for, operator):
    return client_for(operator)


def in_window(contact):
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=5))])
    return contact


def test_a_free_form_whatsapp_in_the_window_is_recorded_as_it_would_be_sent(api, operator, new_phone):
    contact = in_window(
        actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    )
    response = api.post(
        "/api/messages",
        {"contactId": contact.contactId, "channel": "whatsapp", "text": "Hello Asha"},
        content_type=JSON,
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent" and message.dryRun is True
    assert [c.status for c in message.statusHistory] == ["queued", "sending", "sent"]
    request = message.providerRequest[0]
    assert request["operation"] == "SendWhatsAppMessage"
    assert request["params"]["metaApiVersion"] == "v20.0"
    assert request["params"]["originationPhoneNumberId"] == settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    wa = WaMessage.get(WaMessage.key(message.whatsappMessageId))
    assert (wa.direction, wa.deliveryStatus, wa.textBody) == ("OUTBOUND", "sent", "Hello Asha")


def test_a_refusal_is_a_422_with_the_reason_code_and_nothing_is_recorded(api, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="test")
    response = api.post(
        "/api/messages", {"contactId": contact.contactId, "channel": "sms", "text": "hi"}, content_type=JSON
    )
    assert response.status_code == 422
    assert response.json()["code"] == "CONSENT_NEVER_GIVEN"
    assert list(Message.by_contact.query(contact.contactId)) == []


def test_free_form_outside_the_window_is_template_required(api, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    response = api.post(
        "/api/messages", {"contactId": contact.contactId, "channel": "whatsapp", "text": "hi"}, content_type=JSON
    )
    assert (response.status_code, response.json()["code"]) == (422, "TEMPLATE_REQUIRED")


def test_an_email_is_sent_with_sanitised_html(api, operator, new_email):
    contact = actions.create_contact({"email": new_email(), "optInEmail": True}, user=operator, source="test")
    response = api.post(
        "/api/messages",
        {
            "contactId": contact.contactId,
            "channel": "email",
            "subject": "Your booking",
            "text": "See you",
            "html": "<p onclick='x()'>See you</p><script>bad()</script>",
        },
        content_type=JSON,
    )
    assert response.status_code == 202, response.content
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent"
    sent = message.providerRequest[0]["params"]
    assert sent["Content"]["Simple"]["Body"]["Html"]["Data"] == "<p>See you</p>"
    assert sent["FromEmailAddress"] == '"WECARE.DIGITAL" <one@wecare.digital>'


def test_an_email_needs_a_subject(api, operator, new_email):
    contact = actions.create_contact({"email": new_email(), "optInEmail": True}, user=operator, source="test")
    response = api.post(
        "/api/messages", {"contactId": contact.contactId, "channel": "email", "text": "x"}, content_type=JSON
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "subject"]


def test_sms_preflight_shows_segments_and_sends_nothing(client_for, viewer, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    response = client_for(viewer).post(
        "/api/messages/preflight",
        {"contactId": contact.contactId, "channel": "sms", "text": "ç" * 71},
        content_type=JSON,
    )
    assert response.json() == {
        "allowed": True,
        "code": None,
        "detail": "Allowed.",
        "segments": {"encoding": "UCS-2", "count": 2},
    }
    assert list(Message.by_contact.query(contact.contactId)) == []


def test_a_viewer_cannot_send(client_for, viewer, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    response = client_for(viewer).post(
        "/api/messages", {"contactId": contact.contactId, "channel": "sms", "text": "hi"}, content_type=JSON
    )
    assert response.status_code == 403


def test_history_lists_a_contacts_messages_and_usage_counts_them(api, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    for text in ("one", "two"):
        api.post("/api/messages", {"contactId": contact.contactId, "channel": "sms", "text": text}, content_type=JSON)
    page = api.get("/api/messages", {"contactId": contact.contactId}).json()
    assert [m["content"]["text"] for m in page["items"]] == ["two", "one"]
    usage = api.get("/api/messages/usage").json()
    today = now().strftime("%Y-%m-%d")
    row = next(u for u in usage if u["channel"] == "sms" and u["day"] == today)
    assert row["freeformCount"] >= 2 and row["templateCount"] == 0


def test_each_outcome_is_counted_as_an_emf_metric_per_channel(api, operator, new_phone, capsys):
    import json

    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    capsys.readouterr()
    api.post("/api/messages", {"contactId": contact.contactId, "channel": "sms", "text": "counted"}, content_type=JSON)
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{") and '"_aws"' in line
    ]
    sent = [line for line in lines if "MessagesSent" in line]
    assert (
        sent and sent[0]["channel"] == "sms" and sent[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["channel"]]
    )


def test_a_redelivered_task_is_skipped_and_a_vanished_message_is_missing_with_nothing_created(api, operator, new_phone):
    from messaging.outbound.send import process

    contact = in_window(
        actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    )
    response = api.post(
        "/api/messages", {"contactId": contact.contactId, "channel": "whatsapp", "text": "Hi"}, content_type=JSON
    )
    message_id = response.json()["messageId"]  # sent already (the task ran eagerly)
    assert process(message_id) == "skipped"  # SQS redelivers it: the claim fails, nothing is sent again
    assert Message.get(message_id, consistent_read=True).status == "sent"
    assert process("01M8NOSUCHMESSAGE000000000") == "missing"
    assert Message.count("01M8NOSUCHMESSAGE000000000", consistent_read=True) == 0  # the claim created nothing
