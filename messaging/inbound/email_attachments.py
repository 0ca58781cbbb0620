"""A received mail's attachments: each file in the private media bucket under
EMAIL_ATTACHMENTS_PREFIX, described on the message, with a MediaFiles item written in the
message's own transaction; and the short-lived link a page offers for one
(docs/design/email.md, "Attachments").
"""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from django.conf import settings

from messaging.inbound.email_mime import Attachment
from messaging.models import MediaFile
from wecare.aws import client
from wecare.dynamo import now

LINK_SECONDS = 300  # as long as the WhatsApp inbox's media links


def s3_key(ses_message_id: str, number: int, attachment: Attachment) -> str:
    """Derived from the mail and the attachment's place in it, so storing again (a retried task)
    writes the same object rather than a second one. The name people see is in the metadata."""
    extension = mimetypes.guess_extension(attachment.content_type) or ""
    return f"{settings.EMAIL_ATTACHMENTS_PREFIX}{ses_message_id}/{number}{extension}"


def file_id(ses_message_id: str, number: int) -> str:
    return f"email-{ses_message_id}-{number}"


def store(ses_message_id: str, attachments: list[Attachment]) -> list[dict[str, Any]]:
    """Put each file in S3 and return what the message's content lists of it (the MediaFiles
    items come from ``media_files``, saved with the message)."""
    stored = []
    s3 = client("s3")
    for number, attachment in enumerate(attachments, start=1):
        key = s3_key(ses_message_id, number, attachment)
        s3.put_object(
            Bucket=settings.MEDIA_BUCKET,
            Key=key,
            Body=attachment.data,
            ContentType=attachment.content_type,
            ContentDisposition=disposition(attachment.filename),
        )
        stored.append(
            {
                "fileId": file_id(ses_message_id, number),
                "filename": attachment.filename,
                "contentType": attachment.content_type,
                "size": len(attachment.data),
                "inline": attachment.inline,
                "s3Bucket": settings.MEDIA_BUCKET,
                "s3Key": key,
            }
        )
    return stored


def listed(attachments: list[Attachment]) -> list[dict[str, Any]]:
    """What a message lists of attachments it did not store (a mail SES found a virus in)."""
    return [
        {"filename": a.filename, "contentType": a.content_type, "size": len(a.data), "inline": a.inline}
        | {"withheld": True}
        for a in attachments
    ]


def media_files(stored: list[dict[str, Any]], message_id: str) -> list[MediaFile]:
    return [
        MediaFile(
            fileId=item["fileId"],
            messageId=message_id,
            s3Key=item["s3Key"],
            contentType=item["contentType"],
            size=item["size"],
            uploadedAt=now(),
        )
        for item in stored
    ]


def disposition(filename: str) -> str:
    """Always a download: a customer's HTML or SVG file must never render as a page."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def link(attachment: dict[str, Any]) -> str | None:
    """A short-lived download link for one attachment as the message lists it; None for one
    that was not stored (``withheld``)."""
    if not attachment.get("s3Key"):
        return None
    return client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": attachment.get("s3Bucket") or settings.MEDIA_BUCKET,
            "Key": attachment["s3Key"],
            "ResponseContentDisposition": disposition(attachment.get("filename") or "attachment"),
        },
        ExpiresIn=LINK_SECONDS,
    )
