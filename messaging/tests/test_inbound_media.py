"""Inbound media: GetWhatsAppMessageMedia (the local fake) copies the file into moto S3; the
MediaFiles item and the message's s3 fields follow. A failing fetch never costs the message:
it retries, then waits on inbound-dlq. An event that is not an event goes there at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from celery.signals import task_prerun
from django.conf import settings

from messaging.inbound.media import fetch_inbound_media
from messaging.inbound.process import process_inbound_event
from messaging.models import MediaFile, Message, RateLimitTracker
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare import dlq
from wecare.aws import client

pytestmark = pytest.mark.django_db
SUFFIX = "baa217c3f11b4ffd956f6f3afb44ce54"


def deliver(body: str) -> dict:
    return process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-media"}, throw=True).result


def wa(wamid: str) -> WaMessage:
    return WaMessage.get(WaMessage.key(wamid), consistent_read=True)


def parked(task: str, args: list, kwargs: dict) -> list:
    wanted = dlq.fingerprint(task, args, kwargs)
    return [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]


@pytest.mark.parametrize(
    ("name", "extension", "mime"),
    [("inbound_image", ".jpg", "image/jpeg"), ("inbound_document", ".pdf", "application/pdf")],
)
def test_media_lands_in_the_private_bucket_and_on_the_message(name, extension, mime, fake_aws_clean, new_phone):
    phone = new_phone()
    body, sent = inbound(name, phone=phone)
    deliver(body)
    media_id = sent[sent["type"]]["id"]
    key = f"{settings.MEDIA_INBOUND_PREFIX}{SUFFIX}/{media_id}{extension}"

    [call] = [c for c in fake_aws_clean.calls("GetWhatsAppMessageMedia") if c["params"]["mediaId"] == media_id]
    assert call["params"]["originationPhoneNumberId"] == f"phone-number-id-{SUFFIX}"
    assert call["params"]["destinationS3File"] == {"bucketName": settings.MEDIA_BUCKET, "key": key}
    head = client("s3").head_object(Bucket=settings.MEDIA_BUCKET, Key=key)
    assert head["ContentLength"] > 0

    item = wa(sent["id"])
    assert (item.s3Bucket, item.s3Key, item.s3Uri, item.mimeType) == (
        settings.MEDIA_BUCKET,
        key,
        f"s3://{settings.MEDIA_BUCKET}/{key}",
        mime,
    )
    [file] = MediaFile.by_message.query(item.messageId)
    assert (file.s3Key, file.contentType, file.whatsappMediaId, file.size) == (
        key,
        mime,
        media_id,
        head["ContentLength"],
    )
    assert item.fileSize == head["ContentLength"]  # the thread shows a document's size beside its name
    message = Message.get(item.messageId, consistent_read=True)
    assert message.mediaId == media_id and message.content["media"]["s3Key"] == key
    conversation = WaConversation.get(item.conversationPk, consistent_read=True)
    assert conversation.lastS3Uri == item.s3Uri


def test_fetching_again_changes_nothing(fake_aws_clean, new_phone):
    body, sent = inbound("inbound_image", phone=new_phone())
    deliver(body)
    assert fetch_inbound_media.apply(args=[sent["id"]], throw=True).result == "already-stored"
    assert len(fake_aws_clean.calls("GetWhatsAppMessageMedia")) == 1


def test_each_fetch_takes_a_token_of_the_shared_download_bucket(fake_aws_clean, new_phone, settings):
    # An exact limit: at 1 per second, three fetches go out in three different seconds.
    settings.RATE_LIMIT_WHATSAPP_MEDIA_DOWNLOAD = 1
    for _ in range(3):
        deliver(inbound("inbound_image", phone=new_phone())[0])
    seconds = [
        int(datetime.fromisoformat(c["time"].replace("Z", "+00:00")).timestamp())
        for c in fake_aws_clean.calls("GetWhatsAppMessageMedia")
    ]
    assert len(seconds) == 3 and len(set(seconds)) == 3
    for second in seconds:
        assert RateLimitTracker.get("whatsapp#media-download", second, consistent_read=True).messageCount == 1


def test_media_of_an_item_with_no_message_record_is_still_stored(fake_aws_clean, new_phone):
    # A WhatsApp item may carry no messageId (written before Messages existed, or by hand); its
    # MediaFiles row then has none either, which the messageId index accepts only as absent.
    body, sent = inbound("inbound_image", phone=new_phone())
    deliver(body)
    wa(sent["id"]).update(actions=[WaMessage.messageId.remove(), WaMessage.s3Key.remove()])

    assert fetch_inbound_media.apply(args=[sent["id"]], throw=True).result == "stored"
    file = MediaFile.get(f"whatsapp-{sent[sent['type']]['id']}", consistent_read=True)
    assert file.messageId is None and file.s3Key == wa(sent["id"]).s3Key


def test_a_failing_media_fetch_keeps_the_message_and_parks_the_fetch_on_the_dlq(fake_aws_clean, new_phone):
    # Failing every time: botocore retries each call and the task retries with backoff (both
    # counted below as more than one call), then the fetch is parked.
    fake_aws_clean.fail("GetWhatsAppMessageMedia", "InternalServiceException", times=1000)
    phone = new_phone()
    body, sent = inbound("inbound_image", phone=phone)
    try:
        assert deliver(body)["recorded"] == 1
        calls = len(fake_aws_clean.calls("GetWhatsAppMessageMedia"))
    finally:
        fake_aws_clean.reset()  # the fault must not outlive this test

    item = wa(sent["id"])
    assert item.caption == "payment receipt" and item.s3Key is None  # the message is kept, without its file
    assert WaConversation.get(item.conversationPk, consistent_read=True).unreadCount == 1
    [record] = parked("messaging.fetch_inbound_media", [sent["id"]], {})
    assert "InternalServiceException" in record.payload
    assert calls > 3  # retried, not given up at the first error

    # Once the service answers again, running the parked task (as replay_dlq does) stores the file.
    assert fetch_inbound_media.apply(args=[sent["id"]], throw=True).result == "stored"
    assert wa(sent["id"]).s3Key


def test_an_event_that_is_not_json_is_parked_at_once_not_retried(fake_aws, caplog):
    body = '{"context": {}, "whatsAppWebhookEntry": "{cut off'
    runs: list[str] = []

    def count(sender=None, kwargs=None, **_):
        if (
            sender is not None
            and sender.name == "messaging.process_inbound_event"
            and (kwargs or {}).get("message") == body
        ):
            runs.append(sender.name)

    task_prerun.connect(count, weak=False)
    try:
        process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-broken"})
    finally:
        task_prerun.disconnect(count)
    assert len(runs) == 1  # retrying the same bytes cannot help
    [record] = parked("messaging.process_inbound_event", [], {"message": body, "sns_message_id": "sns-broken"})
    assert "PermanentError" in record.payload
    assert [r for r in caplog.records if r.getMessage() == "unusable inbound event"]
