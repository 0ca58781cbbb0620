"""Exact, shared rate limits for outbound messages: token buckets in RateLimitTrackers, one item
per bucket and second, granted by conditional writes so every worker shares them; each token has
a slot inside its second so sends are paced, not bunched. Over the limit a send waits, never drops.
Why and how: docs/design/rate-limits.md.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError
from django.conf import settings

from messaging.models import RateLimitTracker
from wecare.aws import client
from wecare.dynamo import DAY

# A guard against a bug (e.g. a condition that can never pass), not a limit on waiting: every
# attempt either moves to a later window or shrinks a partial grant, so real use ends long before.
MAX_ATTEMPTS = 10_000

WHATSAPP_ACCOUNT_BUCKET = "whatsapp#account"

# Seconds after its slot began that a call may still start on a token whose slot is shorter than
# that (at limits above 50/s a slot is too short to hit every time): ``Reservation.call_by``.
CALL_GRACE = 0.02

# bucket -> the latest window this process has seen completely full. Counts only ever grow
# (expiry is 24 h later), so a full window stays full and need not be asked about again.
_known_full: dict[str, int] = {}


@dataclass(frozen=True)
class Reservation:
    """Tokens granted in ``window`` (epoch second), at positions ``first_position`` ..
    ``first_position + granted - 1`` of the paced bucket's count in that window.

    Token i (0-based within this grant) owns the slot starting ``not_before(i)``, p/limit seconds
    into the window for position p, and is good until the window ends (``not_after``). See
    docs/design/rate-limits.md for what that bounds.
    """

    buckets: tuple[str, ...]
    window: int
    granted: int
    first_position: int
    limit: int  # of the paced bucket (the first one): the slots are 1/limit seconds apart

    def not_before(self, i: int = 0) -> float:
        """When token i's slot starts: the earliest its provider call may begin."""
        return self.window + (self.first_position + i) / self.limit

    def slot_end(self, i: int = 0) -> float:
        """When token i's slot ends: a call begun by then keeps the tightest bound (see above)."""
        return self.window + (self.first_position + i + 1) / self.limit

    def not_after(self, i: int = 0) -> float:
        """When token i stops being good: its window's end (a later call would be in a second
        that did not count it). Not the slot's end: docs/design/rate-limits.md ("Late tokens") says why."""
        return self.window + 1

    def call_by(self, i: int = 0) -> float:
        """The latest a provider call on token i may start: its slot's end (or ``CALL_GRACE`` after
        its slot began, for a slot shorter than that), never past its window. A call started later
        would bunch with the next slots' calls and break the sliding-second bound
        (docs/design/rate-limits.md, "Late tokens"); ``deliver`` refuses it and another is taken."""
        return min(self.not_after(i), max(self.slot_end(i), self.not_before(i) + CALL_GRACE))

    def wait_seconds(self, now: float | None = None) -> float:
        """How long until the first token's slot starts (0 when it already has)."""
        return max(0.0, self.not_before(0) - (time.time() if now is None else now))

    def sleep(self) -> None:
        wait = self.wait_seconds()
        if wait > 0:
            time.sleep(wait)


class _WindowFull(Exception):
    """The write did not fit; ``counts`` has the window's count for each bucket that refused."""

    def __init__(self, counts: dict[str, int]):
        super().__init__(counts)
        self.counts = counts


def _count(item: dict | None) -> int:
    return int(item.get("messageCount", {"N": "0"})["N"]) if item else 0


def _update(bucket: str, limit: int, window: int, n: int, *, at: int | None = None) -> dict:
    """The UpdateItem (or transaction part) that grants n tokens of one bucket's window.

    With ``at`` (the paced bucket): the grant takes positions ``at`` .. ``at + n - 1``. It sets
    the count to ``at + n`` on the condition that the count is at most ``at`` (or not written
    yet): every position granted before lies below the count, so these are free, and the caller
    knows them without a read. ``at`` is the larger of the window's first slot still to come and
    the count as last seen; the caller has checked ``at + n <= limit``.

    Without ``at`` (a bucket that is only counted: the WhatsApp account): an atomic ADD, on the
    condition that the window keeps at most ``limit``."""
    stamp = RateLimitTracker.lastUpdatedAt.serialize(datetime.now(UTC))
    values = {
        ":stamp": {"S": stamp},
        ":expires": {"N": str(window + DAY)},  # TTL: a window is only needed for its second
    }
    if at is None:
        # `<= limit - n` before adding n is `<= limit` after: the check and the add are one
        # atomic step in DynamoDB, which is what makes the limit exact under any concurrency.
        update = "ADD messageCount :n SET lastUpdatedAt = :stamp, expiresAt = :expires"
        condition = "attribute_not_exists(messageCount) OR messageCount <= :room"
        values[":n"] = {"N": str(n)}
        values[":room"] = {"N": str(limit - n)}
    else:
        update = "SET messageCount = :count, lastUpdatedAt = :stamp, expiresAt = :expires"
        condition = "attribute_not_exists(messageCount) OR messageCount <= :at"
        values[":count"] = {"N": str(at + n)}
        values[":at"] = {"N": str(at)}
    return {
        "TableName": RateLimitTracker.Meta.table_name,
        "Key": {"channel": {"S": bucket}, "windowStart": {"N": str(window)}},
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
        # On refusal DynamoDB returns the item as it was: the count to start from next time
        # (and what is left for a partial grant).
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _slot_floor(window: int, limit: int, at: float) -> int:
    """The first position of ``window`` whose slot has not started by ``at`` (0 for a window
    still to come; ``limit`` or more when every slot has started). Granting a lower position
    would hand out a slot already begun: its call would go out at once, bunched with the calls
    before it (the burst docs/design/rate-limits.md describes)."""
    # A microsecond's tolerance: epoch seconds as floats are only exact to ~0.2 us, and a slot
    # starting this very instant has not begun.
    return max(0, math.ceil((at - window - 1e-6) * limit))


# bucket -> (window, its count as this process last saw it): the first guess for the next grant
# in that window, so a worker granting again and again in one second rarely guesses wrong.
# Counts only grow, so a stale guess is only ever too low, and costs one refused write.
_last_seen: dict[str, tuple[int, int]] = {}


def _seen(bucket: str, window: int) -> int:
    seen_window, count = _last_seen.get(bucket, (None, 0))
    return count if seen_window == window else 0


# How long this process's grant writes take (smoothed): the floor is taken that far ahead, so a
# grant's first slot has not begun by the time the write returns and its sender can use it.
_write_seconds = 0.0
_SMOOTHING = 0.2

_CONFLICT_CODES = {"TransactionConflict", "None", None}  # "None": this part was fine, another was not


def _write(buckets: Sequence[tuple[str, int]], window: int, n: int, at: int) -> None:
    """Grant n tokens in every bucket's window, all or none: the paced (first) bucket's at
    positions ``at`` .. ``at + n - 1``. Raise _WindowFull if any bucket refused (the refusal
    carries its count), or _WindowFull({}) for a transaction conflict (nothing was written).
    """
    dynamodb = client("dynamodb")
    (paced, paced_limit), *others = buckets
    parts = [_update(paced, paced_limit, window, n, at=at)]
    parts += [_update(bucket, limit, window, n) for bucket, limit in others]
    if not others:
        try:
            dynamodb.update_item(**parts[0])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise _WindowFull({paced: _count(exc.response.get("Item"))}) from None
        return
    # Several buckets: one transaction, so a window full in one bucket takes nothing from the
    # others (no tokens leak when the account bucket is full but the number's is not).
    try:
        dynamodb.transact_write_items(TransactItems=[{"Update": part} for part in parts])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons") or []
        codes = {reason.get("Code") for reason in reasons}
        if not codes <= _CONFLICT_CODES | {"ConditionalCheckFailed"}:
            raise  # throttling, validation: not ours to retry here (botocore retries throttling)
        # One reason per transaction item, in the buckets' order; none at all when AWS gives none.
        full = {
            bucket: _count(reason.get("Item"))
            for (bucket, _), reason in zip(buckets, reasons, strict=False)
            if reason.get("Code") == "ConditionalCheckFailed"
        }
        # No condition failed: another transaction was writing the same items at that moment.
        # Nothing was written; the same window is tried again.
        raise _WindowFull(full) from None


def _timed_write(buckets: Sequence[tuple[str, int]], window: int, n: int, at: int) -> None:
    global _write_seconds
    started = time.monotonic()
    try:
        _write(buckets, window, n, at)
    finally:
        _write_seconds = _SMOOTHING * (time.monotonic() - started) + (1 - _SMOOTHING) * _write_seconds


def _reserve(buckets: Sequence[tuple[str, int]], n: int, *, partial: bool, now) -> Reservation:
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    smallest = min(limit for _, limit in buckets)
    if smallest < 1:
        raise ValueError(f"limit must be at least 1, not {smallest}")
    if n > smallest and not partial:
        # No window can ever hold n tokens: waiting would never end.
        raise ValueError(f"cannot reserve {n} tokens at once: the limit is {smallest} per second")
    wanted = min(n, smallest)
    paced, paced_limit = buckets[0]
    pinned = None if now is None else (now.timestamp() if isinstance(now, datetime) else float(now))

    def clock() -> float:
        return pinned if pinned is not None else time.time()  # tests pin the clock

    def first_window_after(window: int) -> int:
        # Never reserve a second that has already passed: its tokens would be sent in a later
        # second that did not count them. Skip windows this process already knows are full
        # (only on the wall clock: a pinned clock may be anywhere in time).
        start = max(window, math.floor(clock()))
        if pinned is None:
            for bucket, _ in buckets:
                start = max(start, _known_full.get(bucket, start - 1) + 1)
        return start

    window = first_window_after(math.floor(clock()))
    ask = wanted
    seen = _seen(paced, window)  # the paced bucket's count in `window`, as last seen (0: not seen)
    conflicts = 0
    for _ in range(MAX_ATTEMPTS):
        lead = 0.0 if pinned is not None else _write_seconds  # a pinned clock does not move while writing
        at = max(seen, _slot_floor(window, paced_limit, clock() + lead))
        room = paced_limit - at  # counts only grow: never more than this
        if room < ask and partial and room >= 1:
            ask = room
        if room < ask:
            window = first_window_after(window + 1)  # every slot left here has started or is taken
            ask, seen = wanted, _seen(paced, window)
            continue
        try:
            _timed_write(buckets, window, ask, at)
        except _WindowFull as refusal:
            if not refusal.counts:
                conflicts += 1  # transaction conflict: same window, after a growing pause
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2**conflicts)))
                continue
            seen = max(seen, refusal.counts.get(paced, seen))
            _last_seen[paced] = (window, seen)
            room = ask
            for bucket, limit in buckets:
                if bucket in refusal.counts:
                    left = limit - refusal.counts[bucket]
                    if left <= 0 and pinned is None:
                        _known_full[bucket] = max(_known_full.get(bucket, window), window)
                    room = min(room, left)
            if room >= ask:
                continue  # the paced count had moved past `at`: from where it is now
            if partial and room >= 1:
                ask = room  # take what the earliest window with room still has
                continue
            window = first_window_after(window + 1)
            ask, seen = wanted, _seen(paced, window)
            continue
        _last_seen[paced] = (window, at + ask)
        return Reservation(tuple(b for b, _ in buckets), window, ask, at, paced_limit)
    raise RuntimeError(f"no window found for {n} tokens in {[b for b, _ in buckets]} after {MAX_ATTEMPTS} attempts")


def reserve(bucket: str, limit: int, n: int = 1, *, now: float | datetime | None = None) -> Reservation:
    """Reserve exactly n tokens of ``bucket`` (at most ``limit`` per second) in the earliest
    window that has room for all n. Raises ValueError if n > limit (no window ever could)."""
    return _reserve([(bucket, limit)], n, partial=False, now=now)


def reserve_up_to(bucket: str, limit: int, n: int, *, now: float | datetime | None = None) -> Reservation:
    """For bulk: reserve min(n, what is left) tokens in the earliest window with any room.
    ``granted`` says how many; the caller sends that many and reserves again for the rest."""
    return _reserve([(bucket, limit)], n, partial=True, now=now)


def buckets_for(channel: str, sender: str | None = None) -> list[tuple[str, int]]:
    """The buckets (name, limit per second) one outbound message on ``channel`` takes a token from.

    Read at each call, so a changed setting (or a test's override) applies at once."""
    if channel == "whatsapp":
        if not sender:
            raise ValueError("a WhatsApp send needs its phone number id (the sender)")
        return [
            (f"whatsapp#{sender}", settings.RATE_LIMIT_WHATSAPP_PER_NUMBER),
            (WHATSAPP_ACCOUNT_BUCKET, settings.RATE_LIMIT_WHATSAPP_ACCOUNT),
        ]
    if channel == "sms":
        return [("sms", settings.RATE_LIMIT_SMS)]  # one origination pool: one bucket
    if channel == "email":
        return [("email", settings.RATE_LIMIT_EMAIL)]  # SES sending rate is per account
    raise ValueError(f"unknown channel {channel!r}")


def reserve_for_send(
    channel: str,
    sender: str | None = None,
    n: int = 1,
    *,
    up_to: bool = False,
    now: float | datetime | None = None,
) -> Reservation:
    """Reserve n tokens for sends on ``channel`` (from ``sender``, for WhatsApp).

    WhatsApp takes from the phone number's bucket and the account's in the same window, in one
    transaction: if either is full, neither is charged and both move to a later window, so no
    token leaks. With ``up_to=True`` (bulk) the grant may be smaller than n; see ``granted``.
    """
    return _reserve(buckets_for(channel, sender), n, partial=up_to, now=now)


# Provider operations with an account-wide quota of their own (AWS End User Messaging Social's
# PostWhatsAppMessageMedia and GetWhatsAppMessageMedia, 100 requests/s each by default): the
# bucket each takes a token from, and the setting that holds its limit.
OPERATION_BUCKETS: dict[str, tuple[str, str]] = {
    "PostWhatsAppMessageMedia": ("whatsapp#media-upload", "RATE_LIMIT_WHATSAPP_MEDIA_UPLOAD"),
    "GetWhatsAppMessageMedia": ("whatsapp#media-download", "RATE_LIMIT_WHATSAPP_MEDIA_DOWNLOAD"),
}


def take_for_operation(operation: str) -> Reservation:
    """Take one token for a provider call of ``operation`` and wait for its slot: the caller
    makes the call on return. Over the limit it waits, like a send."""
    bucket, setting = OPERATION_BUCKETS[operation]
    reservation = reserve(bucket, getattr(settings, setting))
    reservation.sleep()
    return reservation
