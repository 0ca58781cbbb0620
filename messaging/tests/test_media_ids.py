"""WhatsApp media uploaded once per file and number: reused by later sends, by threads and by
worker processes racing for the first upload; a stale id uploaded again exactly once; DRY_RUN's
stand-in ids never sent in LIVE; every upload under the shared rate limiter. LIVE sends go to the
local fake, whose call log counts PostWhatsAppMessageMedia."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import actions
from contacts.models import Contact
from messaging.models import MediaFile, Message, RateLimitTracker
from messaging.outbound import media_ids
from messaging.outbound.send import dispatch
from messaging.outbound.senders import Outbound, SendError, TokenExpired, deliver
from wecare.aws import client
from wecare.dynamo import now
from wecare.tests.released import released_together

pytestmark = pytest.mark.django_db
JSON = "application/json"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
UPLOAD = "PostWhatsAppMessageMedia"
SEND = "SendWhatsAppMessage"


@pytest.fixture
def live(settings, fake_aws_clean):
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    media_ids.forget_known()
    return fake_aws_clean


@pytest.fixture
def photo(client_for, operator):
    """Upload a fresh photo through the API, as a person would; returns its issued s3Key."""

    def upload() -> str:
        file = SimpleUploadedFile("photo.jpg", PHOTO, content_type="image/jpeg")
        response = client_for(operator).post("/api/messages/media", {"file": file})
        assert response.status_code == 201, response.content
        return response.json()["s3Key"]

    return upload


@pytest.fixture
def whatsapp_contact(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=1))])
    return contact


def image(key: str, to: str = "+919800000001", sender: str | None = None) -> Outbound:
    return Outbound(
        message_id=f"test-{to}",
        channel="whatsapp",
        sender=sender or settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        to=to,
        media={"s3Key": key, "contentType": "image/jpeg"},
    )


def sent_media_ids(fake) -> list[str]:
    return [json.loads(base64.b64decode(c["params"]["message"]))["image"]["id"] for c in fake.calls(SEND)]


def second_of(call: dict) -> int:
    return int(datetime.fromisoformat(call["time"].replace("Z", "+00:00")).timestamp())


def test_a_file_sent_twice_from_one_number_is_uploaded_once(live, photo, client_for, operator, whatsapp_contact):
    key = photo()
    api = client_for(operator)
    for caption in ("first", "second"):
        data = {"contactId": whatsapp_contact.contactId, "channel": "whatsapp"}
        data["media"] = {"s3Key": key, "contentType": "image/jpeg", "caption": caption}
        response = api.post("/api/messages", data, content_type=JSON)
        assert response.status_code == 202, response.content
        assert Message.get(response.json()["messageId"], consistent_read=True).status == "sent"
    [upload] = live.calls(UPLOAD)
    assert upload["params"]["sourceS3File"]["key"] == key
    first, second = sent_media_ids(live)
    assert first == second
    # Kept on the file's own record, per number, with when it was uploaded.
    record = client("dynamodb").get_item(
        TableName=MediaFile.Meta.table_name, Key={"fileId": {"S": media_ids.file_id(key)}}, ConsistentRead=True
    )["Item"]
    entry = record[f"whatsappMedia#LIVE#{settings.WHATSAPP_PHONE_NUMBER_IDS[0]}"]["M"]
    assert entry["mediaId"]["S"] == first and float(entry["uploadedAt"]["N"]) > 0


def test_each_number_uploads_the_file_for_itself(live, photo):
    key = photo()
    numbers = settings.WHATSAPP_PHONE_NUMBER_IDS[:2]
    for sender in numbers * 2:
        deliver(image(key, sender=sender))
    uploads = live.calls(UPLOAD)
    assert sorted(c["params"]["originationPhoneNumberId"] for c in uploads) == sorted(numbers)
    # The fake, like WhatsApp, refuses an id another number uploaded: each send used its own.
    assert not [c for c in live.calls(SEND) if c["error"]]


def test_threads_racing_for_the_first_upload_upload_once(live, photo):
    key = photo()
    live.set_latency(300, operation=UPLOAD)  # the race stays open while the first upload runs
    outs = [image(key, to=f"+9198000000{i:02d}") for i in range(12)]
    threads = [threading.Thread(target=deliver, args=(out,)) for out in outs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(live.calls(UPLOAD)) == 1
    assert len({out.media_id for out in outs}) == 1 and len(live.calls(SEND)) == 12
    # Only the send that uploaded lists the upload among its calls.
    assert sum(1 for out in outs if out.prepared_calls) == 1


def test_workers_in_other_processes_share_one_upload(live, photo):
    """Three processes of four threads each: their memos and locks are their own, so only the
    lease in DynamoDB stands between them and three uploads."""
    key = photo()
    live.set_latency(300, operation=UPLOAD)
    sender = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    workers = [
        ["messaging.tests.media_worker", key, sender, json.dumps([f"+91980{w}00000{i}" for i in range(4)])]
        for w in range(3)
    ]
    with released_together(workers) as children:
        outputs = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    used = [json.loads(line)["mediaId"] for out, _ in outputs for line in out.splitlines() if line.strip()]
    assert len(used) == 12 and len(set(used)) == 1
    assert len(live.calls(UPLOAD)) == 1 and len(live.calls(SEND)) == 12


def test_a_lease_whose_holder_died_is_taken_over(live, photo, monkeypatch):
    key = photo()
    file, sender = media_ids.file_id(key), settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    attribute = f"whatsappMedia#LIVE#{sender}"
    # A worker claimed the upload and died: its lease ended a moment ago, with no id.
    client("dynamodb").update_item(
        TableName=MediaFile.Meta.table_name,
        Key={"fileId": {"S": file}},
        UpdateExpression="SET #a = :lease",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={
            ":lease": {
                "M": {"version": {"N": "1"}, "owner": {"S": "dead"}, "leaseUntil": {"N": str(now().timestamp() - 1)}}
            }
        },
    )
    out = image(key)
    deliver(out)
    assert len(live.calls(UPLOAD)) == 1 and out.media_id


def test_a_live_lease_is_waited_for_not_duplicated(live, photo, monkeypatch):
    key = photo()
    file, sender = media_ids.file_id(key), settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    attribute = f"whatsappMedia#LIVE#{sender}"
    table = MediaFile.Meta.table_name
    holder = {"version": {"N": "1"}, "owner": {"S": "other"}, "leaseUntil": {"N": str(now().timestamp() + 30)}}
    client("dynamodb").update_item(
        TableName=table,
        Key={"fileId": {"S": file}},
        UpdateExpression="SET #a = :lease",
        ExpressionAttributeNames={"#a": attribute},
        ExpressionAttributeValues={":lease": {"M": holder}},
    )

    def other_worker_finishes() -> None:  # the holder, elsewhere, stores its id a little later
        done = {
            "version": {"N": "2"},
            "mediaId": {"S": "1000000000000042"},
            "uploadedAt": {"N": str(now().timestamp())},
        }
        client("dynamodb").update_item(
            TableName=table,
            Key={"fileId": {"S": file}},
            UpdateExpression="SET #a = :done",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues={":done": {"M": done}},
        )

    timer = threading.Timer(0.3, other_worker_finishes)
    timer.start()
    try:
        got, uploaded = media_ids.media_id(key, sender, live=True, upload=lambda: pytest.fail("must not upload"))
    finally:
        timer.join()
    assert (got, uploaded) == ("1000000000000042", False)


def test_an_id_older_than_29_days_is_uploaded_again(live, photo):
    key = photo()
    first = image(key)
    deliver(first)
    sender = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    old = now().timestamp() - media_ids.REUSE_SECONDS - 60
    client("dynamodb").update_item(
        TableName=MediaFile.Meta.table_name,
        Key={"fileId": {"S": media_ids.file_id(key)}},
        UpdateExpression="SET #a.uploadedAt = :old",
        ExpressionAttributeNames={"#a": f"whatsappMedia#LIVE#{sender}"},
        ExpressionAttributeValues={":old": {"N": str(old)}},
    )
    media_ids.forget_known()  # another process, which only has the item to go by
    second = image(key, to="+919800000002")
    deliver(second)
    assert len(live.calls(UPLOAD)) == 2 and second.media_id != first.media_id


def test_a_media_id_whatsapp_no_longer_knows_is_uploaded_again_once(
    live, photo, client_for, operator, whatsapp_contact
):
    key = photo()
    api = client_for(operator)
    data = {
        "contactId": whatsapp_contact.contactId,
        "channel": "whatsapp",
        "media": {"s3Key": key, "contentType": "image/jpeg"},
    }
    assert api.post("/api/messages", data, content_type=JSON).status_code == 202
    [expired] = sent_media_ids(live)
    assert live.forget_media(expired) == 1  # as WhatsApp does after 30 days

    response = api.post("/api/messages", data, content_type=JSON)
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent"
    assert len(live.calls(UPLOAD)) == 2
    refused, resent = live.calls(SEND)[1:]
    assert refused["error"] == "InvalidParametersException" and not resent["error"]
    fresh = json.loads(base64.b64decode(resent["params"]["message"]))["image"]["id"]
    assert fresh != expired
    # The next send reuses the new id: no third upload.
    assert api.post("/api/messages", data, content_type=JSON).status_code == 202
    assert len(live.calls(UPLOAD)) == 2 and sent_media_ids(live)[-1] == fresh


def test_concurrent_senders_refused_the_same_stale_id_share_one_new_upload(live, photo):
    key = photo()
    deliver(image(key))
    [expired] = sent_media_ids(live)
    live.forget_media(expired)
    live.set_latency(300, operation=UPLOAD)
    outs = [image(key, to=f"+9198000001{i:02d}") for i in range(8)]

    def send(out: Outbound) -> None:
        # The path a worker takes: deliver, and on a stale id (TokenExpired) deliver again.
        try:
            deliver(out)
        except TokenExpired:
            deliver(out)

    threads = [threading.Thread(target=send, args=(out,)) for out in outs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(live.calls(UPLOAD)) == 2  # the first upload and exactly one more
    assert len({out.media_id for out in outs}) == 1 and outs[0].media_id != expired
    assert Counter(bool(c["error"]) for c in live.calls(SEND)[1:])[False] == 8


def test_a_second_refusal_fails_the_message_as_today(live, photo, client_for, operator, whatsapp_contact):
    key = photo()
    stale = "(#131053) Media upload error: media id is not known to WhatsApp"
    live.fail(SEND, "InvalidParametersException", status=400, message=stale, times=2)
    data = {
        "contactId": whatsapp_contact.contactId,
        "channel": "whatsapp",
        "media": {"s3Key": key, "contentType": "image/jpeg"},
    }
    response = client_for(operator).post("/api/messages", data, content_type=JSON)
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "failed" and "131053" in message.errorDetails["message"]
    assert len(live.calls(UPLOAD)) == 2 and len(live.calls(SEND)) == 2


def test_other_refusals_are_not_taken_for_a_stale_id(live, photo):
    key = photo()
    live.fail(SEND, "ValidationException", status=400, message="(#131026) Message undeliverable", times=1)
    with pytest.raises(SendError):
        deliver(image(key))
    assert len(live.calls(UPLOAD)) == 1 and len(live.calls(SEND)) == 1


def test_dry_run_ids_are_never_sent_in_live(settings, fake_aws_clean, photo):
    media_ids.forget_known()
    key = photo()
    settings.SEND_MODE = "DRY_RUN"
    dry = image(key)
    deliver(dry)
    assert dry.media_id.startswith(media_ids.DRY_RUN_PREFIX)
    assert not fake_aws_clean.calls(UPLOAD)  # DRY_RUN calls nothing
    again = image(key, to="+919800000002")
    deliver(again)
    assert again.media_id == dry.media_id and not again.prepared_calls  # a dry run reuses its own

    settings.SEND_MODE = "LIVE"
    live_out = image(key, to="+919800000003")
    deliver(live_out)
    assert not live_out.media_id.startswith(media_ids.DRY_RUN_PREFIX)
    assert len(fake_aws_clean.calls(UPLOAD)) == 1
    # And a stand-in id found where a LIVE id belongs is refused all the same.
    assert media_ids._usable("dryrun-media-01J", now().timestamp(), live=True, stale=None) is None


def test_uploads_take_tokens_from_the_shared_media_bucket(live, photo, settings):
    started = now()
    deliver(image(photo()))
    [upload] = live.calls(UPLOAD)
    # The upload's second holds a grant of the media bucket, written as it was taken.
    window = RateLimitTracker.get("whatsapp#media-upload", second_of(upload), consistent_read=True)
    assert window.messageCount >= 1 and window.lastUpdatedAt >= started
    # An exact limit: at 2 per second, 5 uploads of different files span at least 3 seconds.
    settings.RATE_LIMIT_WHATSAPP_MEDIA_UPLOAD = 2
    live.reset()
    keys = [photo() for _ in range(5)]
    threads = [threading.Thread(target=deliver, args=(image(k),)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_second = Counter(second_of(c) for c in live.calls(UPLOAD))
    assert sum(per_second.values()) == 5 and max(per_second.values()) <= 2


def test_a_key_without_a_record_is_uploaded_every_time(live):
    key = f"{settings.MEDIA_OUTBOUND_PREFIX}elsewhere/photo.jpg"
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=PHOTO, ContentType="image/jpeg")
    deliver(image(key))
    deliver(image(key))
    assert len(live.calls(UPLOAD)) == 2


def test_the_send_path_retries_a_stale_id_on_a_new_rate_token(live, photo, whatsapp_contact):
    """dispatch takes another token for the retry, as for a token that went stale."""
    key = photo()
    deliver(image(key))
    live.forget_media(sent_media_ids(live)[0])
    tokens: list[str] = []
    message = Message(
        messageId="stale-retry",
        contactId=whatsapp_contact.contactId,
        channel="whatsapp",
        direction="outbound",
        content={"media": {"s3Key": key, "contentType": "image/jpeg"}},
        timestamp=now(),
        status="sending",
        sender=settings.WHATSAPP_PHONE_NUMBER_IDS[0],
    )
    outcome = dispatch(
        whatsapp_contact, message, tier_allows=lambda phone: True, reserve=lambda c, s: tokens.append(c) or None
    )
    assert outcome.error is None and outcome.result is not None
    assert len(tokens) == 2 and len(live.calls(UPLOAD)) == 2


@pytest.fixture
def order_update(fake_aws_clean):
    """The fake's seeded templates synced; order_update's header is an image."""
    from messaging.outbound.template_catalog import sync_templates

    sync_templates()
    return {"name": "order_update", "language": "en_US"}


def test_a_template_image_header_goes_by_a_media_id_uploaded_once(
    live, photo, order_update, client_for, operator, new_phone
):
    key = photo()
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    parameters = {"body": ["Meera", "WC-1042"], "headerMedia": {"s3Key": key, "contentType": "image/jpeg"}}
    data = {
        "contactId": contact.contactId,
        "channel": "whatsapp",
        "template": {**order_update, "parameters": parameters},
    }
    for _ in range(2):
        response = client_for(operator).post("/api/messages", data, content_type=JSON)
        assert response.status_code == 202, response.content
        assert Message.get(response.json()["messageId"], consistent_read=True).status == "sent"
    [upload] = live.calls(UPLOAD)
    assert upload["params"]["sourceS3File"]["key"] == key
    bodies = [json.loads(base64.b64decode(c["params"]["message"])) for c in live.calls(SEND)]
    headers = [b["template"]["components"][0] for b in bodies]
    assert (
        headers[0]
        == headers[1]
        == {
            "type": "header",
            "parameters": [{"type": "image", "image": {"id": headers[0]["parameters"][0]["image"]["id"]}}],
        }
    )
    assert bodies[0]["template"]["components"][1]["parameters"] == [
        {"type": "text", "text": "Meera"},
        {"type": "text", "text": "WC-1042"},
    ]


def test_a_template_header_takes_exactly_the_file_its_format_names(
    fake_aws_clean, order_update, photo, client_for, operator
):
    from messaging.outbound import template_catalog
    from wecare.errors import FieldErrors

    body = {"body": ["Meera", "WC-1042"]}
    pdf = SimpleUploadedFile("terms.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64, content_type="application/pdf")
    pdf_key = client_for(operator).post("/api/messages/media", {"file": pdf}).json()["s3Key"]
    cases = {
        "no file": body,
        "a PDF for an image header": {**body, "headerMedia": {"s3Key": pdf_key, "contentType": "application/pdf"}},
        "a key not issued here": {**body, "headerMedia": {"s3Key": "elsewhere/x.jpg", "contentType": "image/jpeg"}},
    }
    for case, parameters in cases.items():
        with pytest.raises(FieldErrors) as refused:
            template_catalog.validate("order_update", "en_US", parameters)
        assert "template.parameters.headerMedia" in refused.value.errors, case
    image = {"s3Key": photo(), "contentType": "image/jpeg"}
    assert template_catalog.validate("order_update", "en_US", {**body, "headerMedia": image})
    text_header = next(
        t
        for t in template_catalog.approved_templates()
        if template_catalog.expected_parameters(t)["headerMedia"] is None
    )
    needed = template_catalog.expected_parameters(text_header)
    with pytest.raises(FieldErrors) as refused:
        template_catalog.validate(
            text_header.templateName,
            text_header.templateLanguage,
            {"body": ["v"] * needed["body"], "header": ["h"] * needed["header"], "headerMedia": image},
        )
    refusal = refused.value.errors["template.parameters.headerMedia"]
    assert refusal == "This template's header takes no file; remove the file."


def test_a_media_upload_error_reported_later_stops_the_id_being_reused(
    live, photo, client_for, operator, whatsapp_contact
):
    """WhatsApp may accept a send and fail it afterwards (a failed status with 131053): the id
    is then not reused, and the next send uploads the file again."""
    from messaging.inbound.process import process_inbound_event
    from messaging.tests.inbound_samples import status

    key = photo()
    api = client_for(operator)
    media = {"s3Key": key, "contentType": "image/jpeg"}
    data = {"contactId": whatsapp_contact.contactId, "channel": "whatsapp", "media": media}
    response = api.post("/api/messages", data, content_type=JSON)
    message = Message.get(response.json()["messageId"], consistent_read=True)
    event = json.loads(status("status_failed", wamid=message.whatsappMessageId, phone=whatsapp_contact.phone))
    entry = json.loads(event["whatsAppWebhookEntry"])
    entry["changes"][0]["value"]["statuses"][0]["errors"] = [
        {"code": 131053, "title": "Media upload error", "message": "Media upload error"}
    ]
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    result = process_inbound_event.apply(kwargs={"message": json.dumps(event)}, throw=True).result
    assert result["statuses"] == {"applied": 1}
    assert Message.get(message.messageId, consistent_read=True).status == "failed"

    api.post("/api/messages", data, content_type=JSON)
    assert len(live.calls(UPLOAD)) == 2
    first, second = sent_media_ids(live)
    assert first != second


def test_an_id_another_worker_dropped_is_not_reused_once_the_memo_is_checked(live, photo, monkeypatch):
    key = photo()
    first = image(key)
    deliver(first)
    # Another worker learned that WhatsApp failed the id (a later status) and dropped it.
    other_process_drops = media_ids._known.copy()
    media_ids.forget_known()
    assert media_ids.discard(key, first.sender, first.media_id)
    media_ids._known.update(other_process_drops)  # this process still remembers it
    monkeypatch.setattr(media_ids, "MEMO_SECONDS", 0.0)  # ... for no longer than its memo lasts
    second = image(key, to="+919800000002")
    deliver(second)
    assert len(live.calls(UPLOAD)) == 2 and second.media_id != first.media_id
