"""An image campaign uploads its file once per business number, however many chunks and however
many senders run them at once: the local fake counts PostWhatsAppMessageMedia."""

from __future__ import annotations

import base64
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bulk import actions, sending
from bulk.audience import AudienceSpec
from bulk.queries import all_recipients
from messaging.outbound import media_ids

pytestmark = pytest.mark.django_db
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture
def photo_key(client_for, operator) -> str:
    file = SimpleUploadedFile("offer.jpg", PHOTO, content_type="image/jpeg")
    response = client_for(operator).post("/api/messages/media", {"file": file})
    assert response.status_code == 201, response.content
    return response.json()["s3Key"]


def test_an_image_campaign_on_two_numbers_uploads_once_per_number(
    operator, make_contacts, live_fake, photo_key, monkeypatch, settings, small_chunks
):
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER = 1000
    media_ids.forget_known()
    live_fake.set_latency(200, operation="PostWhatsAppMessageMedia")  # the race stays open
    chunks: list[list[str]] = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: chunks.append(args))
    numbers = settings.WHATSAPP_PHONE_NUMBER_IDS[:2]
    per_job = small_chunks + small_chunks // 2
    jobs = [
        actions.start_job(
            AudienceSpec(contact_ids=[c.contactId for c in make_contacts(per_job, in_window=True)]),
            {"media": {"s3Key": photo_key, "contentType": "image/jpeg", "caption": "This week only"}},
            channel="whatsapp",
            sender=number,
            user=operator,
            confirm=True,
            previewed_count=per_job,
        )
        for number in numbers
    ]
    assert len(chunks) == 4  # two chunks per job

    # Every chunk of both jobs at once, as several workers would run them.
    threads = [threading.Thread(target=sending.run_chunk, args=tuple(args)) for args in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for job in jobs:
        assert {r.status for r in all_recipients(job.jobId)} == {"sent"}
    uploads = live_fake.calls("PostWhatsAppMessageMedia")
    assert sorted(c["params"]["originationPhoneNumberId"] for c in uploads) == sorted(numbers)
    sends = live_fake.calls("SendWhatsAppMessage")
    assert len(sends) == 2 * per_job and not [c for c in sends if c["error"]]
    used = {
        (c["params"]["originationPhoneNumberId"], json.loads(base64.b64decode(c["params"]["message"]))["image"]["id"])
        for c in sends
    }
    assert len(used) == 2  # one media id per number, for all of its recipients


def test_a_template_campaign_with_an_image_header_uploads_it_once(
    operator, make_contacts, live_fake, photo_key, monkeypatch
):
    from messaging.outbound.template_catalog import sync_templates

    sync_templates()  # the fake's seeded templates: order_update has an image header
    media_ids.forget_known()
    chunks: list[list[str]] = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: chunks.append(args))
    parameters = {"body": ["friend", "WC-1"], "headerMedia": {"s3Key": photo_key, "contentType": "image/jpeg"}}
    job = actions.start_job(
        AudienceSpec(contact_ids=[c.contactId for c in make_contacts(5)]),
        {"template": {"name": "order_update", "language": "en_US", "parameters": parameters}},
        channel="whatsapp",
        sender=None,
        user=operator,
        confirm=True,
        previewed_count=5,
    )
    for args in chunks:
        sending.run_chunk(*args)
    assert {r.status for r in all_recipients(job.jobId)} == {"sent"}
    assert len(live_fake.calls("PostWhatsAppMessageMedia")) == 1
    sends = live_fake.calls("SendWhatsAppMessage")
    headers = {
        json.dumps(json.loads(base64.b64decode(c["params"]["message"]))["template"]["components"][0]) for c in sends
    }
    assert len(sends) == 5 and len(headers) == 1 and not [c for c in sends if c["error"]]
