"""socialmessaging (AWS End User Messaging Social): the operations the app uses.

Beyond the model's checks (done before any handler runs), these refuse what the real service
would refuse for reasons the model cannot express: a phone number or WABA that is not linked to
the account, a message body that is not a WhatsApp Cloud API message, media with no source.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
import uuid
from typing import Any

from localaws.fakeaws.account import PhoneNumber
from localaws.fakeaws.context import Context, ServiceError
from localaws.fakeaws.templates import meta_json, summary

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50  # ListWhatsAppMessageTemplates without maxResults (AWS does not document its own)
META_API_VERSION = re.compile(r"v\d+\.\d+")

# A stand-in for downloaded media: a JPEG start-of-image marker, padding, end-of-image marker;
# 1234 bytes, the fileSize GetWhatsAppMessageMedia reports for media the fake did not upload.
PLACEHOLDER_JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 1212 + b"\xff\xd9"
)
assert len(PLACEHOLDER_JPEG) == 1234


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParametersException", message)


def linked_phone(context: Context, origination: str) -> PhoneNumber:
    phone = context.account.phone(origination)
    if phone is None:
        linked = ", ".join(p.phone_number_id for p in context.account.phone_numbers)
        raise ServiceError(
            "ResourceNotFoundException",
            f"originationPhoneNumberId: {origination} is not linked to this account (linked: {linked})",
        )
    return phone


def linked_waba(context: Context, waba: str) -> None:
    if not context.account.owns(waba):
        raise ServiceError(
            "ResourceNotFoundException",
            f"id: {waba} is not a WhatsApp Business Account linked to this account (linked: {context.account.id})",
        )


def send_whatsapp_message(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_phone(context, params["originationPhoneNumberId"])
    if not META_API_VERSION.fullmatch(params["metaApiVersion"]):
        raise invalid(f"metaApiVersion: {params['metaApiVersion']!r} is not a Graph API version like v20.0")
    try:
        message = json.loads(base64.b64decode(params["message"]))
    except (binascii.Error, ValueError):
        raise invalid("message: not a JSON WhatsApp Cloud API message") from None
    if not isinstance(message, dict) or message.get("messaging_product") != "whatsapp":
        raise invalid('message: a WhatsApp Cloud API message needs "messaging_product": "whatsapp"')
    # A read receipt has message_id, not a recipient; a message to a customer known only by a
    # business-scoped user id names them in "recipient" instead of "to" (Meta's BSUID docs).
    if "to" not in message and "recipient" not in message and "status" not in message:
        raise invalid('message: missing "to" or "recipient" (the recipient)')
    for media_id in _media_ids(message):
        _check_media(context, media_id, params["originationPhoneNumberId"])
    return {"messageId": str(uuid.uuid4())}


MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


def _media_ids(message: dict[str, Any]) -> list[str]:
    """The media ids a Cloud API message names: its own media object's, or a template header's."""
    ids = []
    kind = message.get("type")
    if kind in MEDIA_KINDS and isinstance(message.get(kind), dict) and message[kind].get("id"):
        ids.append(str(message[kind]["id"]))
    for component in (message.get("template") or {}).get("components") or []:
        for parameter in component.get("parameters") or [] if isinstance(component, dict) else []:
            kind = parameter.get("type") if isinstance(parameter, dict) else None
            if kind in MEDIA_KINDS and isinstance(parameter.get(kind), dict) and parameter[kind].get("id"):
                ids.append(str(parameter[kind]["id"]))
    return ids


def _check_media(context: Context, media_id: str, origination: str) -> None:
    # WhatsApp keeps an uploaded media id 30 days, and only the number that uploaded it may send
    # it (SendWhatsAppMessage's originationPhoneNumberId). An id it no longer knows is refused at
    # once, as a Cloud API error passed through: docs/design/media.md says what is known of it.
    info = context.state.media(media_id)
    if info is None:
        raise invalid(
            f"(#131053) Media upload error: media id {media_id} is not known to WhatsApp "
            "(expired after 30 days, deleted, or never uploaded)"
        )
    if info.get("phone") not in (None, origination):
        raise invalid(f"(#131053) Media upload error: media id {media_id} was uploaded by another phone number")


def _media_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))  # Meta's media ids are long decimal numbers


def post_whatsapp_message_media(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_phone(context, params["originationPhoneNumberId"])
    source_file, source_url = params.get("sourceS3File"), params.get("sourceS3PresignedUrl")
    if bool(source_file) == bool(source_url):
        raise invalid("exactly one of sourceS3File or sourceS3PresignedUrl is required")
    info: dict[str, Any] = {"mimeType": "application/octet-stream", "fileSize": 0}
    s3 = context.s3()
    if source_file and s3 is not None:
        # AWS reads the object with the caller's permissions: a missing object fails the call.
        try:
            head = s3.head_object(Bucket=source_file["bucketName"], Key=source_file["key"])
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError, or moto not reachable
            raise invalid(
                f"sourceS3File: s3://{source_file['bucketName']}/{source_file['key']} cannot be read: {exc}"
            ) from None
        info = {
            "mimeType": head.get("ContentType") or info["mimeType"],
            "fileSize": head["ContentLength"],
            "s3": source_file,
        }
    info["phone"] = params["originationPhoneNumberId"]  # the only number that may send it
    media_id = _media_id()
    context.state.put_media(media_id, info)
    return {"mediaId": media_id}


def get_whatsapp_message_media(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_phone(context, params["originationPhoneNumberId"])
    # Inbound media ids come from Meta, not from us: any well-formed id is a 1234-byte JPEG.
    info = context.state.media(params["mediaId"]) or {"mimeType": "image/jpeg", "fileSize": len(PLACEHOLDER_JPEG)}
    destination = params.get("destinationS3File")
    if destination and not params.get("metadataOnly"):
        _write_media(context, info, destination)
    if params.get("destinationS3PresignedUrl"):
        log.info("fakeaws: GetWhatsAppMessageMedia does not PUT to destinationS3PresignedUrl (no network here)")
    return {"mimeType": info["mimeType"], "fileSize": info["fileSize"]}


def _write_media(context: Context, info: dict[str, Any], destination: dict[str, str]) -> None:
    s3 = context.s3()
    if s3 is None:
        log.info(
            "fakeaws: no S3 endpoint configured; nothing written to s3://%s/%s",
            destination["bucketName"],
            destination["key"],
        )
        return
    try:
        if "s3" in info:  # media we uploaded: the destination gets the same object
            source = {"Bucket": info["s3"]["bucketName"], "Key": info["s3"]["key"]}
            s3.copy_object(CopySource=source, Bucket=destination["bucketName"], Key=destination["key"])
        else:
            s3.put_object(
                Bucket=destination["bucketName"],
                Key=destination["key"],
                Body=PLACEHOLDER_JPEG,
                ContentType=info["mimeType"],
            )
    except Exception as exc:  # noqa: BLE001 - any S3 failure is the caller's bad destination, as AWS reports it
        raise invalid(
            f"destinationS3File: cannot write s3://{destination['bucketName']}/{destination['key']}: {exc}"
        ) from None


def delete_whatsapp_message_media(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_phone(context, params["originationPhoneNumberId"])
    context.state.delete_media(params["mediaId"])
    return {"success": True}


def _page(items: list, params: dict[str, Any], default_size: int) -> tuple[list, str | None]:
    """Offset paging behind an opaque-looking token, refused if it is not one we gave out."""
    token = params.get("nextToken")
    start = 0
    if token is not None:
        match = re.fullmatch(r"fakeaws-page-(\d+)", token)
        if not match:
            raise invalid(f"nextToken: {token!r} was not returned by a previous call")
        start = int(match.group(1))
    end = start + (params.get("maxResults") or default_size)
    return items[start:end], (f"fakeaws-page-{end}" if end < len(items) else None)


def list_whatsapp_message_templates(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_waba(context, params["id"])
    page, token = _page(context.state.templates(), params, DEFAULT_PAGE_SIZE)
    return {"templates": [summary(t) for t in page], "nextToken": token}


def get_whatsapp_message_template(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_waba(context, params["id"])
    meta_id, name, language = (
        params.get("metaTemplateId"),
        params.get("templateName"),
        params.get("templateLanguageCode"),
    )
    if not meta_id and not name:
        raise invalid("one of metaTemplateId or templateName is required")
    for template in context.state.templates():
        if meta_id and template["metaTemplateId"] == meta_id:
            return {"template": meta_json(template)}
        if not meta_id and template["templateName"] == name and language in (None, template["templateLanguage"]):
            return {"template": meta_json(template)}
    wanted = f"metaTemplateId {meta_id}" if meta_id else f"templateName {name}" + (f" ({language})" if language else "")
    raise ServiceError("ResourceNotFoundException", f"no template with {wanted}")


def list_linked_whatsapp_business_accounts(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    page, token = _page([context.account.summary()], params, DEFAULT_PAGE_SIZE)
    return {"linkedAccounts": page, "nextToken": token}


def _described(context: Context, phone: PhoneNumber) -> dict[str, Any]:
    """The number's summary with the display name Meta approved last (a test may have renamed it)."""
    summary = phone.summary()
    renamed = context.state.display_name(phone.phone_number_id)
    return summary if renamed is None else {**summary, "displayPhoneNumberName": renamed}


def get_linked_whatsapp_business_account(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    linked_waba(context, params["id"])
    details = context.account.details()
    return {"account": {**details, "phoneNumbers": [_described(context, p) for p in context.account.phone_numbers]}}


def get_linked_whatsapp_business_account_phone_number(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    phone = context.account.phone(params["id"])
    if phone is None:
        raise ServiceError("ResourceNotFoundException", f"id: {params['id']} is not linked to this account")
    return {"phoneNumber": _described(context, phone), "linkedWhatsAppBusinessAccountId": context.account.id}


HANDLERS = {
    "SendWhatsAppMessage": send_whatsapp_message,
    "PostWhatsAppMessageMedia": post_whatsapp_message_media,
    "GetWhatsAppMessageMedia": get_whatsapp_message_media,
    "DeleteWhatsAppMessageMedia": delete_whatsapp_message_media,
    "ListWhatsAppMessageTemplates": list_whatsapp_message_templates,
    "GetWhatsAppMessageTemplate": get_whatsapp_message_template,
    "ListLinkedWhatsAppBusinessAccounts": list_linked_whatsapp_business_accounts,
    "GetLinkedWhatsAppBusinessAccount": get_linked_whatsapp_business_account,
    "GetLinkedWhatsAppBusinessAccountPhoneNumber": get_linked_whatsapp_business_account_phone_number,
}
