"""Counts of messages per UTC hour, kept as they are recorded, so the dashboard reads a few hundred
small items instead of scanning the Messages table. Each record point counts only when its own
conditional write succeeded for the first time (the idempotency that already decides "duplicate"
decides here too), and counts right after that write commits. Why not in the same transaction,
and what each figure means: docs/design/operations.md ("Dashboard").
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.expressions.operand import Path

from wecare.dynamo import DynamoModel, Transaction, meta, models_client, now, register, table_name

log = logging.getLogger(__name__)

CHANNELS = ("whatsapp", "sms", "email")
# What an outbound message counts in. ``attempted``: the message left the send path, sent or
# failed at the provider call (refusals by the gate are not attempts): the failure rate's base.
OUTBOUND = ("attempted", "sent", "delivered", "read", "failed")
INBOUND = "inbound"
BULK_SENT = "bulk_sent"  # every channel's bulk sends together (also counted in <channel>_sent)

RETENTION = timedelta(days=32)  # the dashboard draws 14 days; a month is kept for a look back
BATCH_GET_KEYS = 100  # BatchGetItem's limit per request
MAX_BATCH_ATTEMPTS = 5


def hour_key(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H")


def name(channel: str, what: str) -> str:
    """The counter's attribute: ``whatsapp_sent``, ``sms_inbound``…"""
    return f"{channel}_{what}"


@register
class HourlyCounts(DynamoModel):
    """One item per UTC hour; each counter is a number attribute named by ``name`` (or
    ``bulk_sent``), written only by an atomic ADD, so concurrent writers never lose a count."""

    Meta = meta("HourlyCounts")
    hour = UnicodeAttribute(hash_key=True)  # "2026-12-01T04"
    expiresAt = TTLAttribute()


def add(counts: Mapping[str, int], *, at: datetime | None = None) -> None:
    """ADD ``counts`` to the hour of ``at`` (now) in one UpdateItem. Never raises: the message is
    recorded by then, and a lost count costs less than a record step that fails after its write
    (a retry would find it a duplicate and skip what follows)."""
    counts = {key: n for key, n in counts.items() if n}
    if not counts:
        return
    at = at or now()
    hour = datetime(at.year, at.month, at.day, at.hour, tzinfo=at.tzinfo)
    try:
        HourlyCounts(hour=hour_key(at)).update(
            actions=[HourlyCounts.expiresAt.set(hour + RETENTION), *(Path(key).add(n) for key, n in counts.items())]
        )
    except Exception:
        log.exception("hourly counts not written", extra={"counts": counts, "hour": hour_key(at)})


def add_after(tx: Transaction, counts: Mapping[str, int]) -> None:
    """Count once ``tx`` has committed (never if it is cancelled: a duplicate counts nothing)."""
    tx.after_commit(lambda: add(counts))


def outbound(channel: str, *statuses: str, bulk: bool = False) -> Counter[str]:
    """The counts of one outbound message reaching ``statuses``."""
    counts = Counter(name(channel, status) for status in statuses)
    if bulk and "sent" in statuses:
        counts[BULK_SENT] += 1
    return counts


def inbound(channel: str) -> Counter[str]:
    return Counter({name(channel, INBOUND): 1})


def read(hours: Iterable[str]) -> dict[str, dict[str, int]]:
    """The counters of each hour key asked for that has any (BatchGetItem, 100 keys a request)."""
    keys = list(dict.fromkeys(hours))
    client = models_client()
    table = table_name("HourlyCounts")
    found: dict[str, dict[str, int]] = {}
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request = {table: {"Keys": [{"hour": {"S": key}} for key in keys[start : start + BATCH_GET_KEYS]]}}
        for attempt in range(MAX_BATCH_ATTEMPTS):
            if attempt:
                time.sleep(0.05 * 2**attempt)  # DynamoDB left some keys unread (throttled): back off
            answer = client.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table, []):
                found[item["hour"]["S"]] = {
                    attr: int(value["N"]) for attr, value in item.items() if "N" in value and attr != "expiresAt"
                }
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError("hourly counts: DynamoDB kept keys unprocessed")
    return found
