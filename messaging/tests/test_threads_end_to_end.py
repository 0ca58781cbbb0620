"""A customer's SMS and a customer's email (with an attachment), each through the signed SNS
webhook as AWS delivers them, shown on the DM → SMS / DM → SES pages; the operator's reply from
the page lands in the same conversation (the email one with the thread's headers), and the
customer's answer to it joins the conversation too."""

from __future__ import annotations

import html
import json
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import requests
from django.conf import settings

from contacts import consent
from contacts.models import Contact, ContactUniqueKey
from contacts.queries import find_live_by_email, holder_of
from localaws import ses_receiving
from messaging import threads
from messaging.inbox import thread_queries as queries
from messaging.models import Message
from messaging.tests.sns_signing import (
    notification,
    sns_test_certificates,  # noqa: F401 - a fixture, used through pytestmark
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
URL = "/webhooks/sns/"
SMS_TEMPLATE = json.loads((Path(__file__).parent / "fixtures" / "aws" / "sms_inbound_two_way.json").read_text())


def deliver(client, body: str) -> None:
    """SNS delivering the notification, signed; the task runs eagerly in the request."""
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN)
    response = client.post(URL, data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    assert response.status_code == 200, response.content


def opted_in(contact_id: str, channel: str, operator) -> Contact:
    return consent.change(
        Contact.get(contact_id, consistent_read=True),
        channel,
        True,
        source="operator",
        actor=operator,
        evidence={"note": "asked in the conversation"},
    )


def test_an_sms_through_the_webhook_is_on_the_sms_page_and_the_reply_joins_it(
    client, client_for, operator, settings, new_phone, fake_aws_clean
):
    business, customer = new_phone(), new_phone()
    settings.SMS_NUMBERS = [business]
    body = {
        **SMS_TEMPLATE,
        "originationNumber": customer,
        "destinationNumber": business,
        "messageBody": "Do you deliver on Sundays?",
        "messageKeyword": "",
        "inboundMessageId": str(uuid.uuid4()),
    }
    deliver(client, json.dumps(body))

    thread_id = threads.sms_thread_id(business, customer)
    slug = queries.slug(thread_id)
    web = client_for(operator)
    listing = web.get("/dm/", {"channel": "sms"}).content.decode()
    assert f'data-conversation="{slug}"' in listing and "Do you deliver on Sundays?" in listing
    contact = holder_of(ContactUniqueKey.for_phone(customer), consistent_read=True)
    assert contact is not None
    page = web.get(f"/dm/{slug}/").content.decode()
    assert "Do you deliver on Sundays?" in page and f"/contacts/{contact.contactId}/" in page

    opted_in(contact.contactId, "sms", operator)
    settings.SEND_MODE = "LIVE"  # to the local fake of End User Messaging SMS, over HTTP
    response = web.post(f"/dm/{slug}/reply/", {"text": "Yes, until noon"})
    assert response.status_code == 200, response.content.decode()
    [reply] = [m for m in Message.by_thread.query(thread_id) if m.direction == "outbound"]
    assert (reply.status, reply.sender, reply.dryRun) == ("sent", business, False)
    [call] = fake_aws_clean.calls("SendTextMessage")
    assert (call["params"]["OriginationIdentity"], call["params"]["DestinationPhoneNumber"]) == (business, customer)

    deliver(client, json.dumps({**body, "messageBody": "Great", "inboundMessageId": str(uuid.uuid4())}))
    thread = threads.Thread.get(thread_id, consistent_read=True)
    assert (thread.messageCount, thread.lastPreview, thread.lastDirection) == (3, "Great", "inbound")
    view = web.get(f"/api/threads/{slug}/messages").json()
    assert [m["text"] for m in view["items"]] == ["Do you deliver on Sundays?", "Yes, until noon", "Great"]


def test_an_email_with_an_attachment_through_the_webhook_is_on_the_email_page_and_the_reply_is_threaded(
    client, client_for, operator, settings, new_email, tmp_path
):
    from moto.ses.models import ses_backends  # the moto server runs in this process: what SES "sent"

    sender = new_email()
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4 receipt")
    address = settings.EMAIL_RECEIVING_ADDRESSES[0]
    raw = ses_receiving.mime(
        sender=sender, to=address, subject="Refund for order 42", text="Receipt attached.", attachments=[receipt]
    )
    body = ses_receiving.receive(raw)
    deliver(client, body)

    contact = find_live_by_email(sender)
    assert contact is not None  # the unknown sender became a contact
    [inbound] = Message.by_contact.query(contact.contactId)
    slug = queries.slug(inbound.threadId)
    web = client_for(operator)
    listing = web.get("/dm/", {"channel": "email", "business": address}).content.decode()
    assert f'data-conversation="{slug}"' in listing and "Refund for order 42" in listing
    page = web.get(f"/dm/{slug}/").content.decode()
    link = next(part.split('"')[0] for part in page.split('href="')[1:] if "receipt.pdf" in part.split('"')[0])
    assert requests.get(html.unescape(link), timeout=10).content == b"%PDF-1.4 receipt"
    assert 'value="Re: Refund for order 42"' in page

    opted_in(inbound.contactId, "email", operator)
    settings.SEND_MODE = "LIVE"  # through moto's SES, which keeps the raw mail
    backend = ses_backends[settings.AWS_ACCOUNT_ID][settings.AWS_REGION]
    before = len(backend.sent_messages)
    response = web.post(f"/dm/{slug}/reply/", {"subject": "Re: Refund for order 42", "text": "Refunded today"})
    assert response.status_code == 200, response.content.decode()
    [sent] = backend.sent_messages[before:]
    mail = message_from_bytes(sent.raw_data.encode(), policy=policy.default)
    assert (mail["To"], mail["Subject"]) == (sender, "Re: Refund for order 42")
    assert mail["In-Reply-To"] == f"<{inbound.content['messageIdHeader']}>"

    # The customer answers our reply: their mail joins the same conversation.
    answer = ses_receiving.mime(
        sender=sender,
        to=address,
        subject="Re: Re: Refund for order 42",
        text="Thank you",
        in_reply_to=f"<{sent.id}@{settings.SES_MESSAGE_ID_DOMAIN}>",
    )
    deliver(client, ses_receiving.receive(answer))
    thread = threads.Thread.get(inbound.threadId, consistent_read=True)
    assert (thread.messageCount, thread.unreadCount, thread.lastPreview) == (3, 2, "Thank you")
    texts = [
        (m["direction"], (m["text"] or "").strip()) for m in web.get(f"/api/threads/{slug}/messages").json()["items"]
    ]
    assert texts == [("inbound", "Receipt attached."), ("outbound", "Refunded today"), ("inbound", "Thank you")]
