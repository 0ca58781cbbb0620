"""WhatsApp through AWS End User Messaging Social: SendWhatsAppMessage with Meta's message JSON,
``metaApiVersion`` and an allowlisted ``originationPhoneNumberId``; media is first registered
with PostWhatsAppMessageMedia from our S3 copy and then sent by its media id."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from contacts.validation import whatsapp_user_id
from messaging.outbound.interactive import meta_list
from messaging.outbound.senders.base import Outbound, SendResult, with_retries

MAX_TEXT = 4096
MEDIA_TYPES = {"image", "video", "audio", "document"}


def media_type(content_type: str) -> str:
    if content_type == "image/webp":
        return "sticker"  # Meta's image type is JPEG or PNG; WebP goes as a sticker
    kind = content_type.split("/", 1)[0]
    return kind if kind in MEDIA_TYPES - {"document"} else "document"


def _template_components(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    # {"header": [text, ...], "body": [text, ...], "buttons": [[text, ...] per button]}
    components = []
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
            "components": _template_components(out.template.get("parameters") or {}),
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


class WhatsAppSender:
    service = "socialmessaging"

    def send(self, out: Outbound, client: Any) -> SendResult:
        calls: list[dict[str, Any]] = []
        media_id = None
        if out.media and not out.template:
            params: dict[str, Any] = {
                "originationPhoneNumberId": out.sender,
                "sourceS3File": {"bucketName": settings.MEDIA_BUCKET, "key": out.media["s3Key"]},
            }
            calls.append({"operation": "PostWhatsAppMessageMedia", "params": params})
            media_id = with_retries(lambda: client.post_whatsapp_message_media(**params))["mediaId"]
        message = json.dumps(meta_message(out, media_id), ensure_ascii=False).encode()
        params = {
            "originationPhoneNumberId": out.sender,
            "message": message,
            "metaApiVersion": settings.META_API_VERSION,
        }
        calls.append({"operation": "SendWhatsAppMessage", "params": {**params, "message": message.decode()}})
        answer = with_retries(lambda: client.send_whatsapp_message(**params))
        return SendResult(answer["messageId"], calls)
