"""The WhatsApp messaging limit (tier): unique users reached outside their 24 h service window
in a moving 24 h, per business portfolio, kept exact under concurrency by numbered slots
(``messaging.models.TierSlot``). Why slots, and what each call costs: docs/design/send-path.md.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from botocore.exceptions import ClientError
from django.conf import settings
from django.urls import reverse
from pynamodb.exceptions import DoesNotExist, PutError

from messaging.models import TierSlot
from wecare import alerts
from wecare.aws import client
from wecare.dynamo import now as utcnow
from wecare.models import SystemConfig

log = logging.getLogger(__name__)

PORTFOLIO = "default"  # one business portfolio: all allowlisted numbers share its limit
TIER_LIMIT_KEY = "whatsappTierLimit"  # SystemConfig override of settings.WHATSAPP_TIER_LIMIT
# The messaging limit Meta last reported for the portfolio (phone_number_quality_update,
# messaging/inbound/number_health.py): followed unless an admin set the override.
REPORTED_LIMIT_KEY = "whatsappReportedTierLimit"
REPORTED_BY = "whatsapp-webhook"
# Meta's "unlimited": no cap of Meta's, while the slots still count who was reached.
UNLIMITED_LIMIT = 1_000_000
WINDOW = timedelta(hours=24)
ALERT_AT = 0.8
SLOTS_PER_LOOK = 3  # lost races tolerated on one view of the slots before looking again
MAX_LOOKS = 100  # a guard against a bug; each look fails only if others claimed meanwhile


def tier_limit() -> int:
    """The limit in force: the SystemConfig override when an admin set one, else the limit Meta
    last reported for the portfolio (``record_reported_limit``), else the setting."""
    return limit_and_source()[0]


def limit_and_source() -> tuple[int, str]:
    """(the limit in force, where it comes from: "override", "reported" or "setting"), for a page
    that says why the limit is what it is. Both SystemConfig items in one consistent
    BatchGetItem: this is read on every claim."""
    found = {c.configKey: c for c in SystemConfig.batch_get([TIER_LIMIT_KEY, REPORTED_LIMIT_KEY], consistent_read=True)}
    if TIER_LIMIT_KEY in found:
        value = found[TIER_LIMIT_KEY].configValue
        limit = _whole(value)
        if limit is not None:
            return limit, "override"
        # A bad override must not open the gate wider or shut it: fall back, loudly.
        log.error("tier limit override is not a whole number >= 1; ignoring it", extra={"configValue": value})
    if REPORTED_LIMIT_KEY in found:
        limit = _whole((found[REPORTED_LIMIT_KEY].configValue or {}).get("limit"))
        if limit is not None:
            return limit, "reported"
    return settings.WHATSAPP_TIER_LIMIT, "setting"


def _whole(value: object) -> int | None:
    """A limit of 1 or more from 300 or "300"; None for anything else (JSON true included)."""
    if isinstance(value, bool):
        return None
    try:
        limit = int(str(value).strip())
    except ValueError:
        return None
    return limit if limit >= 1 else None


def parse_limit(word: str | None) -> int | None:
    """The number of unique users a day in Meta's word for a messaging limit: TIER_250, TIER_2K,
    TIER_100K, the plain numbers Meta moved to ("2000"), TIER_UNLIMITED (UNLIMITED_LIMIT). None
    for TIER_NOT_SET and anything unknown: not a limit to follow."""
    word = (word or "").strip().upper()
    if word in ("TIER_UNLIMITED", "UNLIMITED"):
        return UNLIMITED_LIMIT
    # At most 9 digits: a longer number is no limit of Meta's, and the slots are numbered below
    # the limit (a DynamoDB number has 38 digits; Python refuses to read 4,300).
    match = re.fullmatch(r"(?:TIER_)?(\d{1,9})(K?)", word)
    if not match:
        return None
    limit = int(match.group(1)) * (1000 if match.group(2) else 1)
    # Above Meta's unlimited is unlimited: one cap, whatever the word.
    return min(limit, UNLIMITED_LIMIT) if limit >= 1 else None


def record_reported_limit(word: str, *, at: datetime, phone_number_id: str | None, event: str | None) -> bool:
    """Make ``word`` (Meta's messaging limit for the portfolio, reported ``at``) the limit in force
    unless a later report is already stored: events may arrive out of order. True when it did;
    False when the word is no limit or a later (or the same) report is stored."""
    limit = parse_limit(word)
    if limit is None:
        return False
    item = SystemConfig(
        REPORTED_LIMIT_KEY,
        configValue={"limit": limit, "word": word, "phoneNumberId": phone_number_id, "event": event},
        updatedBy=REPORTED_BY,
        updatedAt=at,
    )
    try:
        item.save(condition=SystemConfig.configKey.does_not_exist() | (SystemConfig.updatedAt < at))
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    log.info("tier limit follows Meta's report", extra={"limit": limit, "word": word, "reported_at": at.isoformat()})
    return True


def _recipient_key(portfolio: str, phone: str) -> tuple[str, int]:
    return f"{portfolio}#recipient#{phone}", 0


def _alert_key(portfolio: str) -> tuple[str, int]:
    return f"{portfolio}#alert", 0


def _live(at: datetime):
    return TierSlot.expiresAt > at


def _free_or_expired(at: datetime):
    # `portfolio` is the hash key, so it is missing exactly when the item is. `<=`: exactly
    # the items `_live` does not see, so no item is ever neither live nor free.
    return TierSlot.portfolio.does_not_exist() | (TierSlot.expiresAt <= at)


def used(portfolio: str = PORTFOLIO, *, now: datetime | None = None) -> int:
    """Live slots of the portfolio (any index, so slots above a lowered limit still count)."""
    return TierSlot.count(portfolio, filter_condition=_live(now or utcnow()), consistent_read=True)


def tier_status(portfolio: str = PORTFOLIO, *, now: datetime | None = None) -> tuple[int, int]:
    """(unique users reached in the moving 24 h, limit)."""
    return used(portfolio, now=now), tier_limit()


def holds_slot(phone: str, portfolio: str = PORTFOLIO, *, now: datetime | None = None) -> bool:
    try:
        item = TierSlot.get(*_recipient_key(portfolio, phone), consistent_read=True)
    except DoesNotExist:
        return False
    return item.expiresAt > (now or utcnow())


def _try_slot(portfolio: str, slot: int, phone: str, at: datetime) -> str:
    """Claim one slot and the recipient's item together: 'claimed', 'held' (this recipient got a
    slot meanwhile), 'taken' (someone else got this slot) or 'conflict' (try again).

    boto3's shared client rather than wecare.dynamo.Transaction: that one builds a new
    connection per transaction, which costs more than the whole claim otherwise (bench/README.md)."""
    expires = at + WINDOW
    items = [
        TierSlot(portfolio, slot, recipient=phone, claimedAt=at, expiresAt=expires),
        TierSlot(*_recipient_key(portfolio, phone), recipient=phone, claimedAt=at, expiresAt=expires),
    ]
    put = {
        "TableName": TierSlot.Meta.table_name,
        # Free: never claimed, or its 24 h are over (expired items may linger; moto keeps them).
        "ConditionExpression": "attribute_not_exists(portfolio) OR expiresAt <= :now",
        "ExpressionAttributeValues": {":now": {"N": str(math.floor(at.timestamp()))}},
    }
    try:
        client("dynamodb").transact_write_items(
            TransactItems=[{"Put": {**put, "Item": item.serialize()}} for item in items]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        codes = [reason.get("Code") for reason in exc.response.get("CancellationReasons") or []]
        if codes[1:2] == ["ConditionalCheckFailed"]:
            return "held"
        if codes[:1] == ["ConditionalCheckFailed"]:
            return "taken"
        if "TransactionConflict" in codes:
            return "conflict"
        raise
    return "claimed"


def claim(recipient_phone: str, portfolio: str = PORTFOLIO, *, now: datetime | None = None) -> bool:
    """Count ``recipient_phone`` against the tier. True if they already hold a live slot or one
    was claimed for them now; False means TIER_LIMIT (every slot is held by someone else)."""
    at = now or utcnow()
    if holds_slot(recipient_phone, portfolio, now=at):
        return True
    limit = tier_limit()
    for _ in range(MAX_LOOKS):
        live = list(TierSlot.query(portfolio, filter_condition=_live(at), consistent_read=True))
        if len(live) >= limit:
            log.info("tier limit reached", extra={"portfolio": portfolio, "used": len(live), "limit": limit})
            return False
        taken = {int(item.slot) for item in live}
        # Concurrent claimers pick at random, so they rarely race for the same slot.
        for slot in _free_slots(limit, taken):
            outcome = _try_slot(portfolio, slot, recipient_phone, at)
            if outcome == "claimed":
                _alert_if_near_limit(portfolio, len(live) + 1, limit, at)
                return True
            if outcome == "held":
                return True  # a concurrent claim for the same recipient won: they hold a slot
        # Every slot tried was taken meanwhile: look at the slots again.
    raise RuntimeError(f"could not claim a tier slot in {portfolio} after {MAX_LOOKS} looks")


def _free_slots(limit: int, taken: set[int]) -> list[int]:
    """Up to SLOTS_PER_LOOK free slot numbers below ``limit``, at random. With most slots free
    they are drawn directly: a list of every slot number would cost a large limit (Meta's
    unlimited) more than the whole claim."""
    taken = {slot for slot in taken if slot < limit}  # slots above a lowered limit are not ours to pick
    wanted = min(SLOTS_PER_LOOK, limit - len(taken))
    if len(taken) * 2 < limit:
        picked: set[int] = set()
        while len(picked) < wanted:
            slot = random.randrange(limit)
            if slot not in taken:
                picked.add(slot)
        return list(picked)
    free = [slot for slot in range(limit) if slot not in taken]
    return random.sample(free, min(SLOTS_PER_LOOK, len(free)))


def would_exceed(recipients: Iterable[str], portfolio: str = PORTFOLIO, *, now: datetime | None = None) -> int:
    """For a bulk preview: how many more slots the recipients need than are free (0 = fits).

    Pass only the recipients the job would reach outside their service window. A recipient
    who already holds a live slot needs none. A preview, not a reservation: slots claimed by
    other sends before the job runs can still make some of its sends refuse with TIER_LIMIT.
    """
    at = now or utcnow()
    unique = list(dict.fromkeys(recipients))
    holders = {
        item.recipient
        for item in TierSlot.batch_get([_recipient_key(portfolio, phone) for phone in unique], consistent_read=True)
        if item.expiresAt > at
    }
    needed = len(unique) - len(holders)
    in_use, limit = tier_status(portfolio, now=at)
    return max(0, needed - max(0, limit - in_use))


def _alert_if_near_limit(portfolio: str, seen: int, limit: int, at: datetime) -> None:
    threshold = math.ceil(ALERT_AT * limit)
    if seen < threshold:
        # Our view may be stale: claims that landed after our Query are not in `seen`. Count
        # again after our own write, so the claim that crosses the threshold always sees it.
        seen = used(portfolio, now=at)
        if seen < threshold:
            return
    _alert_once(portfolio, seen, limit, at)


def _alert_once(portfolio: str, seen: int, limit: int, at: datetime) -> bool:
    """Publish one alert per portfolio per 24 h: a marker item written with a condition decides
    which of several concurrent claimers raises it (wecare.alerts stores it for the Alerts page
    and publishes it to the topic, with this message's fields)."""
    marker = TierSlot(*_alert_key(portfolio), claimedAt=at, expiresAt=at + WINDOW)
    try:
        marker.save(condition=_free_or_expired(at))
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False  # alerted within the last 24 h
        raise
    text = f"WhatsApp messaging limit: {seen} of {limit} unique users reached in the last 24 h."
    details = {
        "event": "whatsapp.tier.threshold",
        "portfolio": portfolio,
        "used": seen,
        "limit": limit,
        "threshold": ALERT_AT,
        "at": at.isoformat(),
        "text": text,
    }
    link = reverse("dashboard:home")  # its "WhatsApp tier use" section
    outcome = alerts.record(alerts.Kind.TIER_USE, portfolio, text, link=link, details=details, at=at)
    if outcome is alerts.Outcome.UNPUBLISHED:
        # Take the marker back so a later claim tries again, rather than staying silent 24 h.
        try:
            marker.delete(condition=TierSlot.claimedAt == at)
        except Exception:
            log.exception("tier alert marker not removed", extra={"portfolio": portfolio})
        return False
    return outcome is alerts.Outcome.PUBLISHED
