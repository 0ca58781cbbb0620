"""Idempotent job starts: the same start sent twice makes one job. The key (``Idempotency-Key``
in the API, one per wizard session on the pages), scoped to whoever sent it, is written in the
same transaction as the job; the same key with another payload is 409. Kept ``KEY_TTL``.
Why: docs/design/bulk-sending.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from bulk.models import BulkJob, BulkStartKey
from wecare.dynamo import now
from wecare.errors import Conflict, FieldErrors

KEY_TTL = timedelta(hours=24)
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces: what a header carries


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise FieldErrors(
            {"Idempotency-Key": "must be 1-200 printable ASCII characters without spaces (a UUID is a good key)"}
        )
    return key


def key_id(actor: str, key: str) -> str:
    return f"{actor}#{check_key(key)}"


def fingerprint(payload: dict[str, Any]) -> str:
    """The same start, byte for byte in its JSON form: key order and whitespace do not matter."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def new_key_item(actor: str, key: str, job_id: str, payload_fingerprint: str) -> BulkStartKey:
    at = now()
    return BulkStartKey(
        startKey=key_id(actor, key), jobId=job_id, fingerprint=payload_fingerprint, createdAt=at, expiresAt=at + KEY_TTL
    )


def key_is_free():
    """The condition for storing a key: none stored, or only an expired one (moto never expires
    items, and DynamoDB deletes them up to 48 h late)."""
    return BulkStartKey.startKey.does_not_exist() | (BulkStartKey.expiresAt < now())


def job_for_key(actor: str, key: str) -> BulkJob | None:
    """The job a live key started, whatever its payload (the wizard's second submit, whose
    session state the first one already cleared)."""
    try:
        item = BulkStartKey.get(key_id(actor, key), consistent_read=True)
    except (BulkStartKey.DoesNotExist, FieldErrors):
        return None
    if item.expiresAt <= now():
        return None
    try:
        return BulkJob.get(item.jobId, consistent_read=True)
    except BulkJob.DoesNotExist:
        return None


def earlier_job(actor: str, key: str, payload_fingerprint: str) -> BulkJob | None:
    """The job this key already started, or None; Conflict when the key came with another payload."""
    try:
        item = BulkStartKey.get(key_id(actor, key), consistent_read=True)
    except BulkStartKey.DoesNotExist:
        return None
    if item.expiresAt <= now():
        return None
    if item.fingerprint != payload_fingerprint:
        raise Conflict(
            f"This Idempotency-Key already started job {item.jobId} "
            "with a different audience, channel, sender(s) or message; "
            "use a new key for a new job, or send the same request again to get that job.",
            field="Idempotency-Key",
        )
    return BulkJob.get(item.jobId, consistent_read=True)


__all__ = ["KEY_TTL", "check_key", "earlier_job", "fingerprint", "job_for_key", "key_id", "key_is_free", "new_key_item"]
