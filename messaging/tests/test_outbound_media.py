"""Media for WhatsApp: only the types WhatsApp takes, judged from the content, within its per-type
limits; uploaded to the bucket only once the gate allows the send; and a send may only name a
file the platform issued (messaging/outbound/media.py, the compose page, /api/messages/media)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import actions
from contacts.models import Contact
from messaging.models import MediaFile, Message
from messaging.outbound.media import KB, MB, MediaRefused, check
from messaging.whatsapp_table import WaMessage
from wecare.aws import client
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
JSON = "application/json"

# The first bytes of each format, as its specification lays them out (enough for a signature check).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    + b"\x00" * 32
)
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
OGG_OPUS = (
    b"OggS\x00\x02"
    + b"\x00" * 8
    + b"\x01\x02\x03\x04"
    + b"\x00" * 4
    + b"\x00\x00\x00\x00"
    + b"\x01\x13"
    + b"OpusHead"
    + b"\x01\x02"
    + b"\x00" * 32
)
OGG_VORBIS = OGG_OPUS.replace(b"OpusHead", b"\x01vorbis\x00")
WEBP_STATIC = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64
WEBP_ANIMATED = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02" + b"\x00" * 64  # flags: animation
TEXT = "Order 1042: 2 × chai, 1 × samosa. धन्यवाद!\n".encode()
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def docx() -> bytes:
    """A Word file as Word writes it: a zip whose first entry is [Content_Types].xml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def padded(head: bytes, size: int) -> bytes:
    return head + b"\x00" * (size - len(head))


# --- what WhatsApp takes, from the content ------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (MP4, "video/mp4"),
        (OGG_OPUS, "audio/ogg"),
        (WEBP_STATIC, "image/webp"),
        (TEXT, "text/plain"),
        (b"Totals: 5 < 6, and x <- y in R\n", "text/plain"),  # a "<" that opens no markup
        (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_a_type_whatsapp_takes_is_recognised_from_its_bytes(content, expected):
    assert check(content, len(content)) == expected


@pytest.mark.parametrize(
    "content",
    [
        SVG,
        HTML,
        b"  <html><body>hi</body></html>",
        EXE,
        b"\x00\x01\x02binary",
        # HTML that opens with no doctype or html tag, and markup after a line of text.
        b"<!-- a comment --><p>Invoice</p>",
        b"<div>x</div>",
        b"<a href='javascript:alert(1)'>pay</a>",
        b'<img src=x onerror="alert(1)">',
        b"\xef\xbb\xbf<p>BOM first</p>",
        b"Dear customer,\n<script>alert(1)</script>",
        b"Total: 5 < 6\n<iframe src=//evil.example>",
    ],
)
def test_markup_and_other_files_are_refused(content):
    with pytest.raises(MediaRefused, match="WhatsApp does not take this kind of file"):
        check(content, len(content))


def test_text_with_markup_is_refused_saying_it_is_markup_not_plain_text():
    # Said plainly, or "send a … plain text file" reads as a contradiction to whoever chose one.
    with pytest.raises(
        MediaRefused, match=r"\(it is text with web page markup \(HTML, SVG or XML tags\), which is not plain text\)"
    ):
        check(b"<p>hi</p>", 9)


def test_ogg_audio_must_be_opus():
    with pytest.raises(MediaRefused, match="Opus"):
        check(OGG_VORBIS, len(OGG_VORBIS))


@pytest.mark.parametrize(
    ("content", "limit", "words"),
    [
        (JPEG, 5 * MB, "JPEG images up to 5 MB"),
        (MP4, 16 * MB, "MP4 videos up to 16 MB"),
        (WEBP_STATIC, 100 * KB, "static WebP stickers up to 100 KB"),
        (WEBP_ANIMATED, 500 * KB, "animated WebP stickers up to 500 KB"),
        (PDF, 100 * MB, "PDF documents up to 100 MB"),
    ],
)
def test_each_type_has_whatsapps_own_size_limit(content, limit, words):
    assert check(content, limit)
    with pytest.raises(MediaRefused, match=words):
        check(content, limit + 1)


# --- the compose page ---------------------------------------------------------------------------


@pytest.fixture
def reachable(operator, new_phone) -> Contact:
    """Opted in to WhatsApp and wrote a minute ago: free-form media may go."""
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=1))])
    return contact


@pytest.fixture
def unreachable(operator, new_phone) -> Contact:
    return actions.create_contact({"phone": new_phone()}, user=operator, source="test")


def outbound_objects() -> set[str]:
    listing = client("s3").list_objects_v2(Bucket=settings.MEDIA_BUCKET, Prefix=settings.MEDIA_OUTBOUND_PREFIX)
    return {item["Key"] for item in listing.get("Contents", [])}


def compose(user_client, contact: Contact, name: str, content: bytes, content_type: str, **extra):
    data = {
        "channel": "whatsapp",
        "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        "kind": "media",
        "action": "send",
        **extra,
    }
    data["file"] = SimpleUploadedFile(name, content, content_type=content_type)
    return user_client.post(f"/messages/contact/{contact.contactId}/compose/", data)


def test_a_refused_send_uploads_nothing(client_for, operator, unreachable):
    before = outbound_objects()

    response = compose(client_for(operator), unreachable, "photo.jpg", JPEG, "image/jpeg")

    assert response.status_code == 422
    assert 'data-code="CONSENT_NEVER_GIVEN"' in response.content.decode()
    assert outbound_objects() == before


def test_an_allowed_send_uploads_the_file_with_the_type_its_content_has(client_for, operator, reachable):
    before = outbound_objects()

    # The browser calls it an SVG; its bytes are a PNG, and that is what is stored and sent.
    response = compose(client_for(operator), reachable, "receipt.svg", PNG, "image/svg+xml", caption="Your receipt")

    assert response.status_code == 200, response.content.decode()
    [key] = outbound_objects() - before
    stored = client("s3").head_object(Bucket=settings.MEDIA_BUCKET, Key=key)
    assert stored["ContentType"] == "image/png"
    [message] = list(Message.by_contact.query(reachable.contactId))
    assert message.content["media"] == {
        "s3Key": key,
        "contentType": "image/png",
        "filename": "receipt.svg",
        "size": len(PNG),  # shown beside the name in the thread and the history
        "caption": "Your receipt",
    }
    assert MediaFile.get(f"upload-{key.removeprefix(settings.MEDIA_OUTBOUND_PREFIX)[:26]}").s3Key == key
    # The thread draws the file inline, with its name and size (docs/design/composer.md).
    sent = WaMessage.get(WaMessage.key(Message.get(message.messageId, consistent_read=True).whatsappMessageId))
    assert (sent.type, sent.s3Key, sent.filename, sent.fileSize) == ("image", key, "receipt.svg", len(PNG))


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("logo.svg", SVG, "image/svg+xml"), ("photo.jpg", SVG, "image/jpeg"), ("page.html", HTML, "text/html")],
)
def test_markup_is_refused_on_the_form_and_never_uploaded(client_for, operator, reachable, name, content, content_type):
    before = outbound_objects()

    response = compose(client_for(operator), reachable, name, content, content_type)

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-field="file"' in page and "WhatsApp does not take this kind of file" in page
    assert outbound_objects() == before
    assert list(Message.by_contact.query(reachable.contactId)) == []


def test_a_file_over_16_mb_is_refused_with_a_message_on_the_form(client_for, operator, reachable):
    before = outbound_objects()

    response = compose(client_for(operator), reachable, "clip.mp4", padded(MP4, 16 * MB + 1), "video/mp4")

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-field="file"' in page
    assert "The file is 16.0 MB; WhatsApp takes MP4 videos up to 16 MB." in page
    assert outbound_objects() == before


# --- the API: upload, then send by the issued key ----------------------------------------------


def upload(user_client, name: str, content: bytes, content_type: str):
    return user_client.post(
        "/api/messages/media", {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    )


def send_media(user_client, contact: Contact, media: dict):
    return user_client.post(
        "/api/messages", {"contactId": contact.contactId, "channel": "whatsapp", "media": media}, content_type=JSON
    )


def test_a_file_uploaded_through_the_api_can_be_sent(client_for, operator, reachable):
    api = client_for(operator)
    uploaded = upload(api, "menu.pdf", PDF, "application/octet-stream")
    assert uploaded.status_code == 201, uploaded.content
    media = uploaded.json()
    assert media["contentType"] == "application/pdf" and media["s3Key"].startswith(settings.MEDIA_OUTBOUND_PREFIX)

    response = send_media(
        api, reachable, {"s3Key": media["s3Key"], "contentType": media["contentType"], "filename": "menu.pdf"}
    )

    assert response.status_code == 202, response.content


def test_the_api_refuses_to_upload_what_whatsapp_does_not_take(client_for, operator):
    before = outbound_objects()
    response = upload(client_for(operator), "x.svg", SVG, "image/png")
    assert response.status_code == 422
    assert "WhatsApp does not take this kind of file" in response.json()["detail"][0]["msg"]
    assert outbound_objects() == before


def test_a_customers_inbound_media_cannot_be_sent(client_for, operator, reachable):
    key = f"{settings.MEDIA_INBOUND_PREFIX}1447bc72d1b040f4bf2341c9e04b2e06/1234567890.jpg"
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=JPEG, ContentType="image/jpeg")

    response = send_media(client_for(operator), reachable, {"s3Key": key, "contentType": "image/jpeg"})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "media"] and "POST /api/messages/media" in error["msg"]
    assert list(Message.by_contact.query(reachable.contactId)) == []


@pytest.mark.parametrize(
    "key",
    [
        "whatsapp-media/whatsapp-media-outgoing/photo.jpg",  # put there by someone, not issued
        "whatsapp-media/whatsapp-media-outgoing/01JABCDEFGHJKMNPQRSTVWXYZ0-photo.jpg",  # issued shape, never issued
        "whatsapp-media/whatsapp-media-outgoing/../whatsapp-media-incoming/x.jpg",
        "anything-at-all",
    ],
)
def test_a_key_the_platform_did_not_issue_is_refused(client_for, operator, reachable, key):
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=JPEG, ContentType="image/jpeg")
    response = send_media(client_for(operator), reachable, {"s3Key": key, "contentType": "image/jpeg"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "media"]


def test_the_content_type_must_be_the_uploaded_files(client_for, operator, reachable):
    api = client_for(operator)
    media = upload(api, "photo.jpg", JPEG, "image/jpeg").json()

    response = send_media(api, reachable, {"s3Key": media["s3Key"], "contentType": "application/pdf"})

    assert response.status_code == 422
    assert "image/jpeg" in response.json()["detail"][0]["msg"]


def test_a_templates_image_header_is_chosen_on_the_compose_page(
    client_for, operator, unreachable, fake_aws_clean, new_phone
):
    from messaging.outbound.template_catalog import sync_templates

    sync_templates()  # the fake's seeded templates: order_update's header is an image
    template = {"kind": "template", "template": "order_update|en_US", "body_params": "Meera\nWC-1042"}
    api = client_for(operator)
    page = api.post(
        f"/messages/contact/{unreachable.contactId}/compose/",
        {"channel": "whatsapp", "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0], **template},
    ).content.decode()
    assert 'Header image <input type="file" name="file"' in page
    before = outbound_objects()

    # Without the file the send is refused on the form; nothing is stored.
    data = {"channel": "whatsapp", "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0], "action": "send", **template}
    refused = api.post(f"/messages/contact/{unreachable.contactId}/compose/", data)
    assert refused.status_code == 422 and "template.parameters.headerMedia" in refused.content.decode()
    assert outbound_objects() == before

    opted_in = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    response = compose(api, opted_in, "order.png", PNG, "image/png", **template)
    assert response.status_code == 200, response.content.decode()
    [key] = outbound_objects() - before
    [message] = list(Message.by_contact.query(opted_in.contactId))
    assert message.content["template"]["parameters"]["headerMedia"] == {
        "s3Key": key,
        "contentType": "image/png",
        "filename": "order.png",
    }
    # Sent (DRY_RUN here) with the file as the header's parameter, by the id its upload answered.
    assert message.status == "sent"
    [upload, sent] = message.providerRequest
    assert upload["operation"] == "PostWhatsAppMessageMedia" and upload["params"]["sourceS3File"]["key"] == key
    header = json.loads(sent["params"]["message"])["template"]["components"][0]
    assert header["type"] == "header" and header["parameters"][0]["image"]["id"].startswith("dryrun-media-")
