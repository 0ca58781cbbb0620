"""LIVE sends through the local fake (WhatsApp, SMS) and moto (SES): the exact request shapes,
retries on throttling (3, then failed) and permanent errors."""

import base64
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import actions
from contacts.models import Contact
from messaging.models import Message
from messaging.outbound.send import process
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def live(settings, fake_aws_clean):
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    return fake_aws_clean


@pytest.fixture
def whatsapp_contact(operator, new_phone):
    contact = actions.create_contact(
        {"phone": new_phone(), "optInWhatsApp": True, "optInSms": True}, user=operator, source="test"
    )
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=1))])
    return contact


def meta_message(params: dict) -> dict:
    """The fake records blobs as they travel: base64 in the JSON body."""
    return json.loads(base64.b64decode(params["message"]))


def send(user_client, **data):
    response = user_client.post("/api/messages", data, content_type=JSON)
    assert response.status_code == 202, response.content
    return Message.get(response.json()["messageId"], consistent_read=True)


def test_whatsapp_text_goes_out_as_metas_message_json(live, client_for, operator, whatsapp_contact):
    message = send(client_for(operator), contactId=whatsapp_contact.contactId, channel="whatsapp", text="Namaste 🙏")
    [call] = live.calls("SendWhatsAppMessage")
    params = call["params"]
    assert params["originationPhoneNumberId"] == settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    assert params["metaApiVersion"] == "v20.0"
    body = meta_message(params)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": whatsapp_contact.phone.lstrip("+"),
        "type": "text",
        "text": {"preview_url": False, "body": "Namaste 🙏"},
    }
    assert message.status == "sent" and message.whatsappMessageId and not message.dryRun


def test_whatsapp_media_is_registered_from_s3_then_sent_by_media_id(live, client_for, operator, whatsapp_contact):
    api = client_for(operator)
    photo = SimpleUploadedFile(
        "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, content_type="image/jpeg"
    )
    key = api.post("/api/messages/media", {"file": photo}).json()["s3Key"]  # a send may only name an issued key
    message = send(
        api,
        contactId=whatsapp_contact.contactId,
        channel="whatsapp",
        media={"s3Key": key, "contentType": "image/jpeg", "caption": "Your receipt"},
    )
    [upload] = live.calls("PostWhatsAppMessageMedia")
    assert upload["params"]["sourceS3File"] == {"bucketName": settings.MEDIA_BUCKET, "key": key}
    [sent] = live.calls("SendWhatsAppMessage")
    body = meta_message(sent["params"])
    assert body["type"] == "image" and body["image"]["caption"] == "Your receipt"
    assert body["image"]["id"]  # the media id PostWhatsAppMessageMedia answered
    assert message.status == "sent"


def test_sms_goes_from_the_pool(live, client_for, operator, whatsapp_contact):
    sent = send(client_for(operator), contactId=whatsapp_contact.contactId, channel="sms", text="Your code is 1234")
    [call] = live.calls("SendTextMessage")
    assert call["params"]["OriginationIdentity"] == settings.SMS_POOL_ID
    assert call["params"]["DestinationPhoneNumber"] == whatsapp_contact.phone
    assert call["params"]["MessageBody"] == "Your code is 1234"
    # SMS delivery events name the message by the provider's id: it is kept, and indexed.
    assert sent.providerMessageId
    [found] = Message.by_provider_id.query(sent.providerMessageId)
    assert (found.messageId, found.status) == (sent.messageId, "sent")


def test_throttling_is_retried_three_times_then_the_message_fails(live, client_for, operator, whatsapp_contact):
    live.fail("SendTextMessage", "ThrottlingException", times=4)
    message = send(client_for(operator), contactId=whatsapp_contact.contactId, channel="sms", text="hi")
    assert len(live.calls("SendTextMessage")) == 4  # the first try and 3 retries
    assert message.status == "failed"
    assert message.errorDetails["code"] == "ThrottlingException" and message.errorDetails["attempts"] == 4
    assert message.errorDetails["permanent"] is False


def test_a_throttle_that_clears_within_the_retries_is_sent(live, client_for, operator, whatsapp_contact):
    live.fail("SendWhatsAppMessage", "InternalServerException", times=2)
    message = send(client_for(operator), contactId=whatsapp_contact.contactId, channel="whatsapp", text="hi")
    assert len(live.calls("SendWhatsAppMessage")) == 3
    assert message.status == "sent"


def test_a_permanent_error_fails_at_once_with_the_providers_details(live, client_for, operator, whatsapp_contact):
    live.fail("SendWhatsAppMessage", "ValidationException", message="(#131026) Message undeliverable", times=1)
    message = send(client_for(operator), contactId=whatsapp_contact.contactId, channel="whatsapp", text="hi")
    assert len(live.calls("SendWhatsAppMessage")) == 1
    assert message.status == "failed"
    assert message.errorDetails["code"] == "ValidationException" and "131026" in message.errorDetails["message"]
    assert message.errorDetails["permanent"] is True


def test_email_goes_through_ses_on_moto(live, client_for, operator, new_email):
    from moto.ses.models import ses_backends

    contact = actions.create_contact({"email": new_email(), "optInEmail": True}, user=operator, source="test")
    backend = ses_backends[settings.AWS_ACCOUNT_ID][settings.AWS_REGION]
    before = len(backend.sent_messages)
    message = send(
        client_for(operator),
        contactId=contact.contactId,
        channel="email",
        subject="Hello",
        text="Plain",
        html="<b>Bold</b>",
    )
    assert message.status == "sent", message.errorDetails
    sent = backend.sent_messages[before:]
    assert len(sent) == 1 and sent[0].destinations["ToAddresses"] == [contact.email]
    [found] = Message.by_provider_id.query(sent[0].id)  # SES events name it by its MessageId
    assert found.messageId == message.messageId


def test_a_redelivered_task_never_sends_twice(live, client_for, operator, whatsapp_contact):
    message = send(client_for(operator), contactId=whatsapp_contact.contactId, channel="sms", text="once")
    assert process(message.messageId) == "skipped"
    assert len(live.calls("SendTextMessage")) == 1


def test_a_webp_goes_to_meta_as_a_sticker_without_caption(live, client_for, operator, whatsapp_contact):
    api = client_for(operator)
    sticker = SimpleUploadedFile(
        "hello.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64, content_type="image/webp"
    )
    key = api.post("/api/messages/media", {"file": sticker}).json()["s3Key"]
    send(
        api,
        contactId=whatsapp_contact.contactId,
        channel="whatsapp",
        media={"s3Key": key, "contentType": "image/webp", "caption": "ignored"},
    )
    [sent] = live.calls("SendWhatsAppMessage")
    body = meta_message(sent["params"])
    assert body["type"] == "sticker" and "caption" not in body["sticker"]  # Meta's image type is JPEG or PNG only
