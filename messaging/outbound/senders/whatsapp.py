"""WhatsApp through AWS End User Messaging Social: SendWhatsAppMessage with Meta's message JSON,
``metaApiVersion`` and an allowlisted ``originationPhoneNumberId``. A file (a media message's, or
a template's media header) is registered with PostWhatsAppMessageMedia from our S3 copy once per
file and number, and sent by its media id (messaging/outbound/media_ids.py, docs/design/media.md).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.conf import settings

from contacts.validation import whatsapp_user_id
from messaging.outbound import media_ids, ratelimit
from messaging.outbound.interactive import meta_list
from messaging.outbound.senders.base import Outbound, Sender, SendError, SendResult, with_retries

log = logging.getLogger("messaging.senders")

MAX_TEXT = 4096
MEDIA_TYPES = {"image", "video", "audio", "document"}


def media_type(content_type: str) -> str:
    if content_type == "image/webp":
        return "sticker"  # Meta's image type is JPEG or PNG; WebP goes as a sticker
    kind = content_type.split("/", 1)[0]
    return kind if kind in MEDIA_TYPES - {"document"} else "document"


def _template_components(parameters: dict[str, Any], media_id: str | None = None) -> list[dict[str, Any]]:
    # {"header": [text, ...], "headerMedia": {file}, "body": [text, ...], "buttons": [[text, ...] per button]}
    components = []
    header_media = parameters.get("headerMedia")
    if header_media:
        # Meta's template send format: the header's one parameter is the file, by media id.
        kind = media_type(header_media["contentType"])
        file: dict[str, Any] = {"id": media_id}
        if kind == "document" and header_media.get("filename"):
            file["filename"] = header_media["filename"]
        components.append({"type": "header", "parameters": [{"type": kind, kind: file}]})
    for section in ("header", "body"):
        values = parameters.get(section) or []
        if values:
            components.append({"type": section, "parameters": [{"type": "text", "text": v} for v in values]})
    for index, values in enumerate(parameters.get("buttons") or []):
        if values:
            components.append(
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": str(index),
                    "parameters": [{"type": "text", "text": v} for v in values],
                }
            )
    return components


def addressed_to(to: str) -> dict[str, str]:
    """Whom the message is for, as the Cloud API takes it: a number in ``to`` (digits), or a
    business-scoped user id in ``recipient``, which Meta's Messages API accepts for a customer
    whose number we do not know (docs/design/inbound.md cites the page)."""
    return {"recipient": to} if whatsapp_user_id(to) else {"to": to.lstrip("+")}


def meta_message(out: Outbound, media_id: str | None = None) -> dict[str, Any]:
    """The message object Meta's Cloud API expects (EUM passes it through as bytes)."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", **addressed_to(out.to)}
    if out.template:
        body["type"] = "template"
        body["template"] = {
            "name": out.template["name"],
            "language": {"code": out.template["language"]},
            "components": _template_components(out.template.get("parameters") or {}, media_id),
        }
    elif out.media:
        kind = media_type(out.media["contentType"])
        payload: dict[str, Any] = {"id": media_id}
        if out.media.get("caption") and kind not in ("audio", "sticker"):
            payload["caption"] = out.media["caption"]
        if kind == "document" and out.media.get("filename"):
            payload["filename"] = out.media["filename"]
        body["type"] = kind
        body[kind] = payload
    elif out.interactive:
        body["type"] = "interactive"
        body["interactive"] = meta_list(out.interactive)
    else:
        body["type"] = "text"
        body["text"] = {"preview_url": False, "body": out.text or ""}
    return body


def message_file(out: Outbound) -> dict[str, Any] | None:
    """The file the message carries: its media, or its template's media header."""
    if out.template:
        return (out.template.get("parameters") or {}).get("headerMedia") or None
    return out.media


# What WhatsApp answers, through EUM's SendWhatsAppMessage, for a media id it no longer keeps
# (docs/design/media.md): a refused request naming the media, e.g. Meta's 131053.
STALE_MEDIA_CODES = {"InvalidParametersException", "ValidationException"}
STALE_MEDIA = re.compile(r"131053|media[ _]?id|\bmedia\b.*\b(expired|not found|unknown|not known|does not exist)", re.I)


def stale_media(error: SendError) -> bool:
    message = str(error.details.get("message", ""))
    return error.details.get("code") in STALE_MEDIA_CODES and bool(STALE_MEDIA.search(message))


class MediaRefreshed(Exception):
    """WhatsApp refused the message's media id as unknown; a new one has been uploaded. The send
    is made again once, on a new rate token (``senders.deliver`` raises TokenExpired for it)."""


class WhatsAppSender(Sender):
    service = "socialmessaging"

    def prepare(self, out: Outbound, client: Any) -> None:
        """The message's media id: reused when this file was uploaded for this number, else
        uploaded now (once, whichever thread or worker gets there first)."""
        if out.media_id is None and message_file(out):
            self._media_id(out, client)

    def send(self, out: Outbound, client: Any) -> SendResult:
        message = json.dumps(meta_message(out, out.media_id), ensure_ascii=False).encode()
        params = {
            "originationPhoneNumberId": out.sender,
            "message": message,
            "metaApiVersion": settings.META_API_VERSION,
        }
        calls = [
            *out.prepared_calls,
            {"operation": "SendWhatsAppMessage", "params": {**params, "message": message.decode()}},
        ]
        try:
            answer = with_retries(lambda: client.send_whatsapp_message(**params))
        except SendError as error:
            if out.media_id is None or out.media_refreshed or not stale_media(error):
                raise
            log.warning(
                "WhatsApp refused a media id as unknown; uploading the file again", extra={"sender": out.sender}
            )
            self._media_id(out, client, stale=out.media_id)
            out.media_refreshed = True
            raise MediaRefreshed(out.media_id) from error
        return SendResult(answer["messageId"], calls)

    def _media_id(self, out: Outbound, client: Any, *, stale: str | None = None) -> None:
        file = message_file(out)
        assert file is not None
        params: dict[str, Any] = {
            "originationPhoneNumberId": out.sender,
            "sourceS3File": {"bucketName": settings.MEDIA_BUCKET, "key": file["s3Key"]},
        }

        def upload() -> str:
            return with_retries(lambda: _upload(client, params))

        out.media_id, uploaded = media_ids.media_id(
            file["s3Key"], out.sender, live=not getattr(client, "dry_run", False), upload=upload, stale=stale
        )
        if uploaded:
            out.prepared_calls.append({"operation": "PostWhatsAppMessageMedia", "params": params})


def _upload(client: Any, params: dict[str, Any]) -> str:
    # Every attempt is a request against the account's PostWhatsAppMessageMedia quota: each takes
    # its own token from the shared bucket.
    ratelimit.take_for_operation("PostWhatsAppMessageMedia")
    return client.post_whatsapp_message_media(**params)["mediaId"]
