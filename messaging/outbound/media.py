"""Files a person sends on WhatsApp: which ones WhatsApp takes, judged from their bytes, and the
keys the platform issues for them in the media bucket's outbound prefix.

The types and per-type limits are AWS End User Messaging Social's ("Supported media file types and
sizes in WhatsApp", docs.aws.amazon.com/social-messaging/latest/userguide/supported-media-types.html,
which follows Meta's Cloud API list). The browser's Content-Type and the file name are the sender's
to choose, so neither decides: the content does (``filetype`` reads the signature bytes).

A send may only name a key the platform issued (``store`` records each in MediaFiles): otherwise
anyone allowed to send could forward any object of the bucket, customers' inbound media included.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from ulid import ULID

from messaging.models import MediaFile
from wecare.aws import client
from wecare.dynamo import now

KB = 1024
MB = 1024 * KB


@dataclass(frozen=True)
class MediaType:
    label: str  # what a person calls it, for messages
    max_bytes: int


MEDIA_TYPES: dict[str, MediaType] = {
    "image/jpeg": MediaType("JPEG images", 5 * MB),
    "image/png": MediaType("PNG images", 5 * MB),
    "image/webp": MediaType("animated WebP stickers", 500 * KB),  # static ones: STATIC_STICKER_MAX
    "video/mp4": MediaType("MP4 videos", 16 * MB),
    "video/3gpp": MediaType("3GPP videos", 16 * MB),
    "audio/aac": MediaType("AAC audio", 16 * MB),
    "audio/amr": MediaType("AMR audio", 16 * MB),
    "audio/mpeg": MediaType("MP3 audio", 16 * MB),
    "audio/mp4": MediaType("M4A audio", 16 * MB),
    "audio/ogg": MediaType("Ogg Opus audio", 16 * MB),
    "application/pdf": MediaType("PDF documents", 100 * MB),
    "application/msword": MediaType("Word documents", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": MediaType("Word documents", 100 * MB),
    "application/vnd.ms-excel": MediaType("Excel workbooks", 100 * MB),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": MediaType("Excel workbooks", 100 * MB),
    "application/vnd.ms-powerpoint": MediaType("PowerPoint files", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": MediaType(
        "PowerPoint files", 100 * MB
    ),
    "text/plain": MediaType("plain text files", 100 * MB),
}
STATIC_STICKER_MAX = 100 * KB
ACCEPTED = (
    "JPEG or PNG image, WebP sticker, MP4 or 3GPP video, AAC, AMR, MP3, "
    "M4A or Ogg Opus audio, PDF, Word, Excel, PowerPoint or plain text"
)
SNIFF_BYTES = 8192  # what filetype reads; Office files are recognised by their first zip entries
# An animated PNG is a PNG to every viewer that does not animate it.
SAME_AS = {"image/apng": "image/png"}
# Plain text that is really markup would be stored and shown as a document a browser renders:
# text that opens with a tag or comment of any kind, or holds an active element anywhere in its head
# (browsers sniff HTML in the first bytes; a list of opening words always misses one, such as <p>).
MARKUP_START = re.compile(rb"\s*<")
ACTIVE_MARKUP = re.compile(
    rb"<\s*(script|iframe|object|embed|svg|html|body|meta|base|form|img|math|style|link)\b|javascript:", re.IGNORECASE
)
# What a person is told a refused file is, where its MIME type would say little to them.
FOUND_LABELS = {"text/html": "text with web page markup (HTML, SVG or XML tags), which is not plain text"}
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class MediaRefused(Exception):
    """The file is not one WhatsApp takes; the message says why, for the person who chose it."""


def check(head: bytes, size: int) -> str:
    """The file's real MIME type if WhatsApp accepts it at this size, else MediaRefused.
    ``head`` is the file's first SNIFF_BYTES (or all of it)."""
    if size == 0:
        raise MediaRefused("The file is empty.")
    mime = _sniff(head)
    spec = MEDIA_TYPES.get(mime or "")
    if mime is None or spec is None:
        found = f" (it is {FOUND_LABELS.get(mime, mime)})" if mime else ""
        raise MediaRefused(f"WhatsApp does not take this kind of file{found}. Send a {ACCEPTED} file.")
    if mime == "audio/ogg" and head[28:36] != b"OpusHead":  # the first page's codec header
        raise MediaRefused("This Ogg audio is not Opus; WhatsApp takes Ogg audio only with the Opus codec.")
    limit, label = spec.max_bytes, spec.label
    if mime == "image/webp" and not _animated_webp(head):
        limit, label = STATIC_STICKER_MAX, "static WebP stickers"
    if size > limit:
        raise MediaRefused(f"The file is {_size(size)}; WhatsApp takes {label} up to {_size(limit)}.")
    return mime


def check_file(upload: IO[bytes], size: int) -> str:
    """``check`` on an uploaded file, which is left at its start."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return check(head, size)


def issue_key(filename: str) -> str:
    """A fresh key in the outbound prefix: ``<ULID>-<file name>`` (the name for people, the ULID
    for uniqueness and for the MediaFiles record)."""
    name = re.sub(r"[^\w.\- ]", "_", filename.rsplit("/", 1)[-1])[-100:] or "file"
    return f"{settings.MEDIA_OUTBOUND_PREFIX}{ULID()}-{name}"


def store(key: str, upload: IO[bytes], content_type: str, size: int) -> None:
    """Put the file at an issued key (private; the sender registers it with WhatsApp by key) and
    record it, which is what makes the key usable in a send."""
    record_id = file_id(key)
    assert record_id is not None, "store() takes the keys issue_key() makes"
    upload.seek(0)
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=upload.read(), ContentType=content_type)
    MediaFile(fileId=record_id, s3Key=key, contentType=content_type, size=size, uploadedAt=now()).save()


def reference_error(media: dict[str, Any]) -> str | None:
    """Why a send may not use ``media`` (its s3Key not issued here, or its contentType not the
    file's), or None."""
    key = media.get("s3Key")
    record_id = file_id(key) if isinstance(key, str) else None
    record = _record(record_id) if record_id else None
    if record is None or record.s3Key != key:
        return "s3Key must be a file uploaded through POST /api/messages/media (or the compose page)"
    if media.get("contentType") != record.contentType:
        return f"contentType must be the uploaded file's, {record.contentType}"
    return None


def file_id(key: str) -> str | None:
    """The MediaFiles id of an issued key (``upload-<ULID>``), or None for any other key."""
    prefix = re.escape(settings.MEDIA_OUTBOUND_PREFIX)
    match = re.fullmatch(rf"{prefix}(?P<ulid>[0-9A-HJKMNP-TV-Z]{{26}})-[^/]+", key)
    return f"upload-{match['ulid']}" if match else None


def _record(file_id: str) -> MediaFile | None:
    try:
        return MediaFile.get(file_id, consistent_read=True)
    except MediaFile.DoesNotExist:
        return None


def _sniff(head: bytes) -> str | None:
    mime = filetype.guess_mime(head)
    if mime is not None:
        return SAME_AS.get(mime, mime)
    if not _text(head):
        return None
    return "text/html" if _markup(head) else "text/plain"


def _text(head: bytes) -> bool:
    try:
        # Not final: the sniffed head may end in the middle of a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not TEXT_CONTROLS.search(text)


def _markup(head: bytes) -> bool:
    head = head.removeprefix(codecs.BOM_UTF8)
    return bool(MARKUP_START.match(head) or ACTIVE_MARKUP.search(head))


def _animated_webp(head: bytes) -> bool:
    # RIFF....WEBPVP8X, then a flags byte whose bit 1 says "animation".
    return head[12:16] == b"VP8X" and len(head) > 20 and bool(head[20] & 0x02)


def _size(n: int) -> str:
    unit, name = (MB, "MB") if n >= MB else (KB, "KB")
    return f"{n // unit} {name}" if n % unit == 0 else f"{n / unit:.1f} {name}"
