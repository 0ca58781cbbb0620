"""`manage.py simulate_inbound` (the local stack's stand-in for a customer): moto's SNS delivers
the event over HTTP to the live server's webhook, signed with moto's certificate, verified, and
processed (eagerly here) into the inbox — the same path `make run` uses."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.actions import create_contact
from contacts.models import ContactUniqueKey
from contacts.queries import consent_history, find_live_by_email, holder_of
from localaws.sns_certs import LOCAL_STACK_LOADER
from messaging import threads, voice_calls
from messaging.inbox import queries as inbox_queries
from messaging.models import MediaFile, Message
from messaging.threads import Thread
from wecare.aws import client as aws_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook_subscribed(live_server, settings):
    settings.SNS_CERT_LOADER = LOCAL_STACK_LOADER  # moto's certificate, from moto, as under `make run`
    url = f"{live_server.url}/webhooks/sns/"
    call_command("simulate_inbound", "--subscribe", url)
    yield
    sns = aws_client("sns")
    for sub in sns.list_subscriptions_by_topic(TopicArn=settings.SNS_TOPIC_ARN)["Subscriptions"]:
        if sub["Endpoint"] == url:
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])  # other tests publish to this topic


def test_a_simulated_customer_message_arrives_in_the_inbox(webhook_subscribed, new_phone, capsys):
    phone = new_phone()
    number = inbox_queries.numbers()[1]
    call_command(
        "simulate_inbound",
        "--from",
        phone,
        "--name",
        "Simulated Sam",
        "--text",
        "Is the shop open?",
        "--number",
        number,
    )
    assert "published wamid.LOCAL" in capsys.readouterr().out
    page = inbox_queries.list_conversations(number)
    (conversation,) = [c for c in page.items if inbox_queries.customer_phone(c) == phone]
    assert conversation.unreadCount == 1
    assert conversation.lastPreview == "Is the shop open?"


def test_a_number_libphonenumber_does_not_know_is_played_as_whatsapp_sends_it(webhook_subscribed, capsys):
    phone = f"+972{uuid.uuid4().int % 10**9:09d}"  # like +972987654321, which WhatsApp delivers
    number = inbox_queries.numbers()[0]
    call_command("simulate_inbound", "--from", phone, "--text", "Shalom")
    assert f"from {phone}" in capsys.readouterr().out
    (conversation,) = [c for c in inbox_queries.list_conversations(number).items if inbox_queries.customer(c) == phone]
    assert conversation.lastPreview == "Shalom"


def test_a_simulated_username_customer_arrives_under_their_user_id(webhook_subscribed, capsys):
    user_id = f"US.{uuid.uuid4().int % 10**20}"
    number = inbox_queries.numbers()[0]
    call_command("simulate_inbound", "--user-id", user_id, "--name", "Uma", "--text", "Hi from a username")
    assert f"from {user_id}" in capsys.readouterr().out
    (conversation,) = [
        c for c in inbox_queries.list_conversations(number).items if inbox_queries.customer(c) == user_id
    ]
    assert conversation.lastPreview == "Hi from a username"
    assert inbox_queries.contact_for(conversation).name == "Uma"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "12"], "is not a phone number in E.164 form"),
        (["--from", "+91 98123"], "is not a phone number in E.164 form"),
        (["--user-id", "+919812345670"], "is not a business-scoped user id"),
        (["--number", "phone-number-id-nope"], "is not allowlisted"),
    ],
)
def test_bad_arguments_exit_with_one_line(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_inbound", *argv)


def test_a_simulated_call_connects_and_ends_as_one_call(webhook_subscribed, new_phone, capsys):
    """--change plays Meta's other webhook fields (here `calls`), wrapped as EUM wraps them."""
    phone, call_id = new_phone(), f"wacid.LOCAL{uuid.uuid4().hex}"
    start = int(time.time()) - 90
    for event, extra in (
        ("connect", {}),
        ("terminate", {"status": "COMPLETED", "start_time": str(start), "end_time": str(start + 75), "duration": 75}),
    ):
        call = {"id": call_id, "from": phone[1:], "to": "14155550000", "direction": "USER_INITIATED"}
        value = {"messaging_product": "whatsapp", "calls": [{**call, "event": event, "timestamp": str(start), **extra}]}
        call_command("simulate_inbound", "--change", "calls", "--value", json.dumps(value))
        assert "published a calls change" in capsys.readouterr().out
    (call,) = [c for c in voice_calls.list_calls(direction="inbound", limit=50).items if c.callId == call_id]
    assert (call.status, call.durationSeconds) == ("completed", 75)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--change", "calls"], "--change needs --value"),
        (["--change", "calls", "--value", "{nope"], "--value is not JSON"),
        (["--change", "calls", "--value", "[1]"], "must be a JSON object"),
        (["--change", "calls", "--value", "@/nonexistent/value.json"], "No such file"),
    ],
)
def test_a_change_needs_a_json_object_value(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate_inbound", *argv)


def test_it_refuses_outside_the_local_stack(settings):
    settings.ENVIRONMENT = "staging"
    with pytest.raises(CommandError, match="only runs on the local stack"):
        call_command("simulate_inbound")


def test_a_simulated_email_with_an_attachment_and_its_reply_arrive_in_one_thread(
    webhook_subscribed, new_email, tmp_path, capsys
):
    sender = new_email()
    receipt = tmp_path / "receipt.txt"
    receipt.write_text("Order 42: paid")
    call_command(
        "simulate_inbound",
        "--email",
        "--from",
        sender,
        "--subject",
        "My order",
        "--text",
        "Paid",
        "--attach",
        str(receipt),
    )
    assert f"from {sender}" in capsys.readouterr().out
    contact = find_live_by_email(sender)
    assert contact is not None
    [first] = Message.by_contact.query(contact.contactId)
    assert (first.channel, first.content["subject"], first.content["text"].strip()) == ("email", "My order", "Paid")
    [attachment] = first.content["attachments"]
    assert attachment["filename"] == "receipt.txt"
    assert MediaFile.get(attachment["fileId"]).messageId == first.messageId

    call_command("simulate_inbound", "--email", "--from", sender, "--in-reply-to", first.content["messageIdHeader"])
    messages = list(Message.by_contact.query(contact.contactId))
    assert len(messages) == 2 and {m.threadId for m in messages} == {first.threadId}
    assert Thread.get(first.threadId).subject == "My order"


def test_a_simulated_email_needs_an_address(webhook_subscribed):
    with pytest.raises(CommandError, match="is not an email address"):
        call_command("simulate_inbound", "--email", "--from", "+919812345670x")


def arrived(read, seconds: float = 10.0):
    """What ``read`` returns once it is not empty: moto's SNS may deliver after publish returns."""
    deadline = time.monotonic() + seconds
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_a_simulated_sms_stop_lands_in_the_thread_consent_and_the_opt_out_list(
    webhook_subscribed, fake_aws_clean, settings, new_phone, capsys
):
    settings.SMS_NUMBERS = ["+12125550101"]
    phone = new_phone()
    create_contact({"phone": phone, "optInSms": True}, user=None, source="test")

    call_command("simulate_inbound", "--sms", "STOP", "--from", phone)

    assert f"from {phone} to +12125550101" in capsys.readouterr().out
    # The task's last step puts the number on the list: once it is there, the rest is done.
    assert arrived(lambda: [e for e in fake_aws_clean.opted_out()["Default"] if e["number"] == phone])
    [message] = Message.by_thread.query(threads.sms_thread_id("+12125550101", phone))
    assert (message.content["text"], message.content["keyword"]) == ("STOP", "STOP")
    contact = holder_of(ContactUniqueKey.for_phone(phone), consistent_read=True)
    assert contact is not None and contact.optInSms is False
    [event, _given] = consent_history(contact.contactId, channel="sms")
    assert (event.optedIn, event.actor, event.source) == (False, "customer", "keyword")


def test_a_simulated_sms_needs_e164_numbers(webhook_subscribed):
    with pytest.raises(CommandError, match="--to"):
        call_command("simulate_inbound", "--sms", "Hi", "--to", "12125550101")


def test_a_simulated_bounce_names_our_last_mail_and_suppresses_the_address(
    webhook_subscribed, settings, client_for, operator, new_email, capsys
):
    settings.SEND_MODE = "LIVE"  # through moto's SES, so the mail has SES's id
    contact = create_contact({"email": new_email(), "optInEmail": True}, user=operator, source="test")
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": contact.contactId, "channel": "email", "subject": "Hi", "text": "Hello"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    mail = Message.get(response.json()["messageId"], consistent_read=True)

    call_command("simulate_inbound", "--bounce", contact.email)

    assert f"about mail {mail.providerMessageId}" in capsys.readouterr().out
    bounced = holder_of(ContactUniqueKey.for_email(contact.email), consistent_read=True)
    assert bounced is not None and bounced.optInEmail is False
    [event, _given] = consent_history(contact.contactId, channel="email")
    assert (event.actor, event.source, event.evidence["sesMessageId"]) == ("provider", "bounce", mail.providerMessageId)
    assert Message.get(mail.messageId, consistent_read=True).status == "failed"


def test_a_simulated_complaint_about_mail_we_have_no_record_of_still_suppresses(
    webhook_subscribed, operator, new_email
):
    contact = create_contact({"email": new_email(), "optInEmail": True}, user=operator, source="test")
    call_command("simulate_inbound", "--complaint", contact.email.upper())
    [event, _given] = consent_history(contact.contactId, channel="email")
    assert (event.optedIn, event.actor, event.source) == (False, "provider", "complaint")


def test_a_simulated_bounce_needs_an_address(webhook_subscribed):
    with pytest.raises(CommandError, match="is not an email address"):
        call_command("simulate_inbound", "--bounce", "nobody")
