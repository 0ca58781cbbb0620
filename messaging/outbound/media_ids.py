"""WhatsApp media ids, uploaded once per file and business number and reused while WhatsApp still
keeps them: the id and when it was uploaded live on the file's MediaFiles item, one attribute per
phone number id (and per send mode, so a DRY_RUN stand-in is never sent in LIVE). A short lease,
claimed by a conditional write, makes every thread and worker process upload a file exactly once
per number; the others wait for the id. Why and how: docs/design/media.md.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from ulid import ULID

from messaging.models import MediaFile, Message
from messaging.outbound.media import file_id
from wecare.aws import client
from wecare.dynamo import DAY

log = logging.getLogger("messaging.media_ids")

# WhatsApp keeps an uploaded media id 30 days; an id is reused only while comfortably younger, so
# a send never races its expiry.
REUSE_SECONDS = 29 * DAY
# How long an upload may hold its claim. A holder that died (or is this slow) is taken over once
# the lease ends: at worst a second upload, never a send without a media id.
LEASE_SECONDS = 60.0
# Waiting for another worker's upload: consistent reads this far apart (with jitter), and never
# longer in all than this; then the waiter uploads for itself, unshared.
POLL_SECONDS = 0.05
MAX_WAIT_SECONDS = 2 * LEASE_SECONDS
DRY_RUN_PREFIX = "dryrun-media-"  # what the DRY_RUN stand-in answers (senders/dry_run.py)

Upload = Callable[[], str]

# How long this process trusts an id it knows without looking at the item again: another worker
# may have dropped it (a failure WhatsApp reported later, see ``discard``) or replaced it.
MEMO_SECONDS = 60.0

# (mode, file id, phone number id) -> (media id, uploaded at, when read from the item on the
# monotonic clock): the ids this process knows, so most sends of a campaign ask DynamoDB nothing.
_known: dict[tuple[str, str, str], tuple[str, float, float]] = {}
# One lock per (mode, file, number): threads of one process wait on it rather than poll DynamoDB.
_locks: dict[tuple[str, str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def media_id(s3_key: str, sender: str, *, live: bool, upload: Upload, stale: str | None = None) -> tuple[str, bool]:
    """The media id to send the file at ``s3_key`` from ``sender`` with, and whether this call
    uploaded it. ``upload`` makes the PostWhatsAppMessageMedia call (rate token included) and
    returns its id. ``stale``: an id WhatsApp refused; it is replaced (by one upload, whoever
    makes it) and never returned again. A key the platform did not issue is uploaded every time."""
    file = file_id(s3_key)
    if file is None:
        return upload(), True
    key = ("LIVE" if live else "DRY_RUN", file, sender)
    known = _remembered(key, live=live, stale=stale)
    if known:
        return known, False
    with _lock(key):
        known = _remembered(key, live=live, stale=stale)
        if known:  # another thread of this process got it while this one waited
            return known, False
        media, uploaded_at, uploaded = _shared(file, _attribute(key), live=live, upload=upload, stale=stale)
        if uploaded_at is not None:
            _known[key] = (media, uploaded_at, time.monotonic())
        return media, uploaded


def discard(s3_key: str, sender: str, media: str) -> bool:
    """WhatsApp reported ``media`` unusable after accepting a send (a failed status with
    131053): stop reusing it, so the next send from ``sender`` uploads the file again. Only that
    id is removed (a newer one another worker stored stays). True if it was the stored one."""
    file = file_id(s3_key)
    if file is None:
        return False
    key = ("LIVE", file, sender)
    with _lock(key):  # read and remove as one step: a newer id another thread stored stays
        if _known.get(key, ("",))[0] == media:
            _known.pop(key, None)
    try:
        client("dynamodb").update_item(
            TableName=MediaFile.Meta.table_name,
            Key={"fileId": {"S": file}},
            UpdateExpression="REMOVE #a",
            ConditionExpression="#a.mediaId = :media",
            ExpressionAttributeNames={"#a": _attribute(key)},
            ExpressionAttributeValues={":media": {"S": media}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def discard_sent(message: Message) -> bool:
    """``discard`` the media id a sent WhatsApp message carried, read from what went to the
    provider (its SendWhatsAppMessage call); False when it carried none."""
    content = message.content or {}
    file = content.get("media") or ((content.get("template") or {}).get("parameters") or {}).get("headerMedia")
    sent = next((c for c in message.providerRequest or [] if c.get("operation") == "SendWhatsAppMessage"), None)
    if not file or not sent or not message.sender:
        return False
    body = json.loads(sent["params"]["message"])
    media = _sent_media_id(body)
    return media is not None and discard(file["s3Key"], message.sender, media)


def _sent_media_id(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if kind != "template":
        file = body.get(kind) if isinstance(kind, str) else None
        return str(file["id"]) if isinstance(file, dict) and file.get("id") else None
    for component in body["template"].get("components") or []:
        for parameter in component.get("parameters") or []:
            file = parameter.get(parameter.get("type"), {})
            if isinstance(file, dict) and file.get("id"):
                return str(file["id"])
    return None


def forget_known() -> None:
    """Drop this process's memo (tests; the shared items stay)."""
    _known.clear()


def _remembered(key: tuple[str, str, str], *, live: bool, stale: str | None) -> str | None:
    media, uploaded_at, read_at = _known.get(key, ("", 0.0, 0.0))
    if time.monotonic() - read_at > MEMO_SECONDS:
        return None
    return _usable(media, uploaded_at, live=live, stale=stale)


def _lock(key: tuple[str, str, str]) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _attribute(key: tuple[str, str, str]) -> str:
    mode, _, sender = key
    return f"whatsappMedia#{mode}#{sender}"


def _usable(media: str, uploaded_at: float, *, live: bool, stale: str | None, now: float | None = None) -> str | None:
    """``media`` if it may be sent now: young enough, not the refused one, and in LIVE never a
    DRY_RUN stand-in (belt and braces: the two modes keep their ids apart already)."""
    if not media or media == stale or (live and media.startswith(DRY_RUN_PREFIX)):
        return None
    return media if (time.time() if now is None else now) - uploaded_at < REUSE_SECONDS else None


def _shared(
    file: str, attribute: str, *, live: bool, upload: Upload, stale: str | None
) -> tuple[str, float | None, bool]:
    """The id from the file's item, or upload under a lease. Returns (id, uploaded at or None
    when it is not to be kept, uploaded by this call)."""
    started = time.monotonic()
    while True:
        now = time.time()
        found, entry = _read(file, attribute)
        if not found:
            # No MediaFiles record (a key issued before records existed): nothing to share.
            return upload(), None, True
        media = _usable(entry.get("mediaId", ""), float(entry.get("uploadedAt", 0)), live=live, stale=stale, now=now)
        if media:
            return media, float(entry["uploadedAt"]), False
        if float(entry.get("leaseUntil", 0)) > now:  # another worker is uploading it
            if time.monotonic() - started > MAX_WAIT_SECONDS:
                log.warning("media upload lease outlived the wait; uploading unshared", extra={"file": file})
                return upload(), None, True
            time.sleep(POLL_SECONDS * random.uniform(0.5, 1.5))
            continue
        owner = str(ULID())
        if not _claim(file, attribute, entry, owner, now):
            continue  # someone changed the entry since it was read: read it again
        try:
            media = upload()
        except BaseException:
            _settle(file, attribute, entry, owner, None)
            raise
        uploaded_at = time.time()
        _settle(file, attribute, entry, owner, {"mediaId": media, "uploadedAt": uploaded_at})
        return media, uploaded_at, True


def _read(file: str, attribute: str) -> tuple[bool, dict[str, Any]]:
    answer = client("dynamodb").get_item(
        TableName=MediaFile.Meta.table_name,
        Key={"fileId": {"S": file}},
        ProjectionExpression="fileId, #a",
        ExpressionAttributeNames={"#a": attribute},
        ConsistentRead=True,
    )
    item = answer.get("Item")
    if item is None:
        return False, {}
    entry = item.get(attribute, {}).get("M", {})
    return True, {name: next(iter(value.values())) for name, value in entry.items()}


def _version(entry: dict[str, Any]) -> int:
    return int(entry.get("version", 0))


def _put(
    file: str, attribute: str, entry: dict[str, Any], value: dict[str, Any], condition: str, names: dict, values: dict
) -> bool:
    """Replace the entry with ``value`` (its version one higher) if ``condition`` holds."""
    fields = {"version": {"N": str(_version(entry) + 1)}}
    for name, item in value.items():
        fields[name] = {"N": repr(item)} if isinstance(item, float) else {"S": item}
    try:
        client("dynamodb").update_item(
            TableName=MediaFile.Meta.table_name,
            Key={"fileId": {"S": file}},
            UpdateExpression="SET #a = :entry",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#a": attribute, **names},
            ExpressionAttributeValues={":entry": {"M": fields}, **values},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def _claim(file: str, attribute: str, entry: dict[str, Any], owner: str, now: float) -> bool:
    """Take the lease if the entry is still what was read (compare and set on its version):
    whoever read the same state and wrote first wins, the others read again and wait."""
    if entry:
        condition, values = "#a.version = :read", {":read": {"N": str(_version(entry))}}
    else:
        condition, values = "attribute_exists(fileId) AND attribute_not_exists(#a)", {}
    lease = {"owner": owner, "leaseUntil": now + LEASE_SECONDS}
    if entry.get("mediaId"):  # kept while the new upload runs: what it replaces, for the logs
        lease["replaces"] = entry["mediaId"]
    return _put(file, attribute, entry, lease, condition, {}, values)


def _settle(file: str, attribute: str, entry: dict[str, Any], owner: str, result: dict[str, Any] | None) -> None:
    """End this upload's lease: with the new id, or empty after a failed upload (the next
    sender tries). A lease taken over meanwhile is left alone; this send still uses its id."""
    claimed = {**entry, "version": _version(entry) + 1}
    done = _put(
        file,
        attribute,
        claimed,
        result or {},
        "#a.#owner = :owner",
        {"#owner": "owner"},
        {":owner": {"S": owner}},
    )
    if not done:
        log.warning("media upload lease was taken over before the upload ended", extra={"file": file})
