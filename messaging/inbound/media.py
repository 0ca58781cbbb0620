"""Inbound media: copied by AWS from WhatsApp into our private media bucket, then recorded, by
its own idempotent task (``messaging.fetch_inbound_media``) after the message is recorded, so a
media failure never costs the message (docs/design/inbound.md, "Media").
"""

from __future__ import annotations

import logging
import mimetypes
from typing import Any

from celery import shared_task
from django.conf import settings

from messaging.models import MediaFile, Message
from messaging.outbound import ratelimit
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.aws import client
from wecare.dlq import DeadLetterTask
from wecare.dynamo import now, update_if

log = logging.getLogger(__name__)

# mimetypes knows these badly or not at all; WhatsApp voice notes are ogg/opus.
EXTENSIONS = {
    "audio/ogg": ".ogg",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "text/plain": ".txt",
}


def s3_key(item: WaMessage) -> str:
    mime = (item.mimeType or "").split(";")[0].strip()
    extension = EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ""
    suffix = (item.originationPhoneNumberId or "").rsplit("-", 1)[-1]
    return f"{settings.MEDIA_INBOUND_PREFIX}{suffix}/{item.mediaId}{extension}"


def fetch(wa_message_id: str) -> str:
    """Copy the message's media to S3 and record it. 'stored', 'already-stored' or 'no-media'."""
    item = WaMessage.get(WaMessage.key(wa_message_id), consistent_read=True)
    if not item.mediaId:
        return "no-media"
    if item.s3Key:
        return "already-stored"
    key, bucket = s3_key(item), settings.MEDIA_BUCKET
    # The account's GetWhatsAppMessageMedia quota is shared by every worker: take its token.
    ratelimit.take_for_operation("GetWhatsAppMessageMedia")
    answer = client("socialmessaging").get_whatsapp_message_media(
        mediaId=item.mediaId,
        originationPhoneNumberId=item.originationPhoneNumberId,
        destinationS3File={"bucketName": bucket, "key": key},
    )
    # Meta's mime type in the webhook is the file's own; the API's is a fallback.
    mime = item.mimeType or answer.get("mimeType") or "application/octet-stream"
    uri = f"s3://{bucket}/{key}"
    media = {"s3Bucket": bucket, "s3Key": key, "s3Uri": uri, "mimeType": mime, "size": answer.get("fileSize")}
    MediaFile(
        fileId=f"whatsapp-{item.mediaId}",
        messageId=item.messageId or None,  # an index key may not be an empty string
        s3Key=key,
        contentType=mime,
        size=answer.get("fileSize") or 0,
        uploadedAt=now(),
        whatsappMediaId=item.mediaId,
    ).save()
    if item.messageId:
        _add_to_message(item.messageId, media)
    _show_in_conversation(item, uri)
    item.update(
        actions=[
            WaMessage.s3Bucket.set(bucket),
            WaMessage.s3Key.set(key),
            WaMessage.s3Uri.set(uri),
            WaMessage.mimeType.set(mime),
            # The thread shows a document's size beside its name; Meta's webhook gives none.
            *([WaMessage.fileSize.set(answer["fileSize"])] if isinstance(answer.get("fileSize"), int) else []),
        ]
    )
    log.info("inbound media stored", extra={"wa_message_id": wa_message_id, "s3_key": key})
    return "stored"


def _add_to_message(message_id: str, media: dict[str, Any]) -> None:
    try:
        message = Message.get(message_id, consistent_read=True)
    except Message.DoesNotExist:
        return  # expired (30 days) before a late replay: the MSG# item still gets the file
    content = dict(message.content or {})
    content["media"] = media
    message.update(actions=[Message.content.set(content)])


def _show_in_conversation(item: WaMessage, uri: str) -> None:
    """The inbox's thumbnail, only while this message is still the conversation's last."""
    if not item.conversationPk:
        return
    update_if(
        WaConversation(pk=item.conversationPk),
        actions=[WaConversation.lastS3Uri.set(uri)],
        condition=WaConversation.lastMessagePk == item.pk,
    )


# Queue: inbound-queue (settings.CELERY_TASK_ROUTES); retried, then parked on inbound-dlq.
@shared_task(base=DeadLetterTask, name="messaging.fetch_inbound_media")
def fetch_inbound_media(wa_message_id: str) -> str:
    return fetch(wa_message_id)
