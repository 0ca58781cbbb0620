"""Rate limits: token buckets in RateLimitTrackers, shared by threads and processes.

Every test has its own bucket names (moto keeps data for the whole session). Concurrency tests
read every window back and check: no window above its limit, the stored count equals what the
callers were granted (nothing counted twice or lost), and every requested token was granted.
No test asserts how long anything took.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from bisect import bisect_left
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st

from messaging.models import RateLimitTracker
from messaging.outbound import ratelimit
from messaging.outbound.ratelimit import reserve, reserve_for_send, reserve_up_to
from wecare.aws import client
from wecare.tests.hypothesis_profiles import examples
from wecare.tests.released import released_together

FAR = 3_000_000_000  # a pinned clock far from now, so pinned tests never meet real windows


def unique(name: str) -> str:
    return f"test-{name}-{uuid.uuid4().hex[:10]}"


def stored(bucket: str) -> dict[int, int]:
    """messageCount of every window of ``bucket``, read back from the table."""
    table = client("dynamodb")
    counts, start = {}, None
    while True:
        page = table.query(
            TableName=RateLimitTracker.Meta.table_name,
            KeyConditionExpression="channel = :b",
            ExpressionAttributeValues={":b": {"S": bucket}},
            ConsistentRead=True,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        counts.update({int(i["windowStart"]["N"]): int(i["messageCount"]["N"]) for i in page["Items"]})
        start = page.get("LastEvaluatedKey")
        if not start:
            return counts


def run_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads started together; return their results (or raise)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread did not finish"
    if errors:
        raise errors[0]
    return results


def granted_per_window(grants) -> Counter:
    per_window: Counter = Counter()
    for grant in grants:
        per_window[grant.window] += grant.granted
    return per_window


def assert_positions_fit(grants, counts: dict[int, int], limit: int) -> None:
    """A paced bucket's stored count is the end of the last position granted in its window: the
    positions granted are distinct, below the count, and the last one ends it. (The count can be
    more than the tokens granted: a grant on a live clock skips the positions whose slots had
    already begun; see ratelimit._slot_floor.) Nothing counted twice, nothing granted uncounted."""
    per_window: dict[int, list[int]] = {}
    for grant in grants:
        per_window.setdefault(grant.window, []).extend(
            range(grant.first_position, grant.first_position + grant.granted)
        )
    assert set(per_window) == set(counts)
    for window, positions in per_window.items():
        assert len(positions) == len(set(positions)), f"a position granted twice in {window}"
        assert max(positions) == counts[window] - 1 <= limit - 1


# --- one bucket ------------------------------------------------------------------------------


def test_reserving_more_than_the_limit_at_once_is_refused():
    with pytest.raises(ValueError, match="limit is 5"):
        reserve(unique("too-many"), 5, 6)
    with pytest.raises(ValueError, match="n must be at least 1"):
        reserve(unique("zero"), 5, 0)
    with pytest.raises(ValueError, match="needs its phone number id"):
        reserve_for_send("whatsapp", None)  # a WhatsApp send needs its phone number id


def test_a_full_window_sends_the_caller_to_the_next_one():
    bucket = unique("next")
    assert (reserve(bucket, 5, 3, now=FAR).window, reserve(bucket, 5, 2, now=FAR).window) == (FAR, FAR)
    later = reserve(bucket, 5, 1, now=FAR)
    assert (later.window, later.granted) == (FAR + 1, 1)
    assert stored(bucket) == {FAR: 5, FAR + 1: 1}
    assert later.wait_seconds(now=FAR + 0.25) == pytest.approx(0.75)
    assert later.wait_seconds(now=FAR + 2) == 0


def test_reserve_up_to_grants_what_the_earliest_window_has_left():
    bucket = unique("upto")
    reserve(bucket, 5, 3, now=FAR)
    part = reserve_up_to(bucket, 5, 4, now=FAR)
    assert (part.window, part.granted) == (FAR, 2)  # the 2 left in the first window, not 4 later
    rest = reserve_up_to(bucket, 5, 7, now=FAR)
    assert (rest.window, rest.granted) == (FAR + 1, 5)  # never more than the limit at once
    assert stored(bucket) == {FAR: 5, FAR + 1: 5}


def test_the_item_carries_its_ttl_and_last_update():
    bucket = unique("ttl")
    reserve(bucket, 5, 1, now=FAR)
    item = RateLimitTracker.get(bucket, FAR, consistent_read=True)
    assert item.messageCount == 1
    assert int(item.expiresAt.timestamp()) == FAR + 24 * 3600
    assert item.lastUpdatedAt is not None


def test_threads_share_one_bucket_exactly():
    """6 threads x 3 reservations of 1-2 tokens at 5/s: a few seconds of full windows."""
    bucket, limit = unique("threads"), 5
    plan = [1, 2, 1]

    def work(i):
        grants = []
        for n in plan:
            grant = reserve(bucket, limit, n)
            grants.append(grant)
            grant.sleep()  # like a sender: wait for the window, then send
        return grants

    grants = [g for per_thread in run_threads(6, work) for g in per_thread]
    assert sum(g.granted for g in grants) == 6 * sum(plan)  # none dropped
    counts = stored(bucket)
    assert max(counts.values()) <= limit
    assert_positions_fit(grants, counts, limit)
    assert len(counts) >= 6 * sum(plan) // limit  # it really had to spread over windows


def test_processes_share_one_bucket_exactly():
    """3 worker processes and this one, on the same moto endpoint, one bucket at 5/s."""
    bucket, limit = unique("processes"), 5
    plans = [[["exact", 1], ["upto", 4]], [["upto", 3], ["exact", 2]], [["exact", 2], ["upto", 3]]]
    workers = [["messaging.tests.reserve_worker", bucket, str(limit), json.dumps(plan)] for plan in plans]
    with released_together(workers) as children:
        mine, left = [reserve(bucket, limit, 1)], 2
        while left:  # a partial grant: reserve again for the rest
            mine.append(reserve_up_to(bucket, limit, left))
            left -= mine[-1].granted
        outputs = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    grants = [
        ratelimit.Reservation((bucket,), limit=limit, **json.loads(line))
        for out, _ in outputs
        for line in out.splitlines()
        if line.strip()
    ]
    requested = sum(n for plan in plans for _, n in plan) + 3
    assert sum(g.granted for g in grants + mine) == requested  # none dropped
    counts = stored(bucket)
    assert max(counts.values()) <= limit
    assert_positions_fit(grants + mine, counts, limit)


# --- channels ------------------------------------------------------------------------------


def test_channels_use_their_buckets_and_limits(settings):
    settings.RATE_LIMIT_SMS, settings.RATE_LIMIT_EMAIL = 5, 10
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER, settings.RATE_LIMIT_WHATSAPP_ACCOUNT = 80, 1000
    assert ratelimit.buckets_for("sms") == [("sms", 5)]
    assert ratelimit.buckets_for("email", "one@wecare.digital") == [("email", 10)]
    assert ratelimit.buckets_for("whatsapp", "phone-number-id-1") == [
        ("whatsapp#phone-number-id-1", 80),
        ("whatsapp#account", 1000),
    ]
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        ratelimit.buckets_for("fax")


def test_whatsapp_moves_both_buckets_forward_together_without_leaking(settings, monkeypatch):
    """Number A fills the account's window; number B, with room of its own, moves to the next
    window for both, and nothing is left charged in the window it could not use."""
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER, settings.RATE_LIMIT_WHATSAPP_ACCOUNT = 3, 4
    account = unique("account")
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", account)
    a, b = unique("number-a"), unique("number-b")
    assert reserve_for_send("whatsapp", a, 3, now=FAR).window == FAR
    moved = reserve_for_send("whatsapp", b, 3, now=FAR)
    assert (moved.window, moved.buckets) == (FAR + 1, (f"whatsapp#{b}", account))
    assert stored(f"whatsapp#{b}") == {FAR + 1: 3}  # no token leaked into FAR
    assert stored(account) == {FAR: 3, FAR + 1: 3}
    c = unique("number-c")
    part = reserve_for_send("whatsapp", c, 3, up_to=True, now=FAR)
    assert (part.window, part.granted) == (FAR, 1)  # the account's last token in FAR
    part = reserve_for_send("whatsapp", a, 3, up_to=True, now=FAR)
    assert (part.window, part.granted) == (FAR + 1, 1)  # A is full in FAR; the account has 1 left in FAR+1
    with pytest.raises(ValueError, match="cannot reserve 4 tokens at once"):
        reserve_for_send("whatsapp", a, 4)  # more than the number's limit


def test_whatsapp_numbers_and_account_stay_exact_under_threads(settings, monkeypatch):
    """2 numbers (3/s each) under one account (4/s), 4 threads: per window, each number <= 3,
    the account <= 4, and the account's count is exactly the sum of the numbers' (no leak)."""
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER, settings.RATE_LIMIT_WHATSAPP_ACCOUNT = 3, 4
    account = unique("account")
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", account)
    numbers = [unique("number-a"), unique("number-b")]

    def work(i):
        grants = []
        for n in (1, 2, 1):
            grant = reserve_for_send("whatsapp", numbers[i % 2], n)
            grants.append(grant)
            grant.sleep()
        return grants

    grants = [g for per_thread in run_threads(4, work) for g in per_thread]
    assert sum(g.granted for g in grants) == 4 * 4
    for number in numbers:
        assert_positions_fit(
            [g for g in grants if g.buckets[0] == f"whatsapp#{number}"], stored(f"whatsapp#{number}"), 3
        )
    account_counts = stored(account)
    assert max(account_counts.values()) <= 4
    assert account_counts == dict(granted_per_window(grants))  # the account counts tokens granted, no more, no less


def test_waiting_for_a_window_ends_in_that_window():
    grant = reserve(unique("sleep"), 5, 1, now=time.time() + 1)
    grant.sleep()
    assert time.time() >= grant.window  # slept until the window started (no upper bound asserted)


# --- positions and pacing inside a window --------------------------------------------------


def positions_by_window(grants) -> dict[int, list[int]]:
    """Every granted token's position, per window, sorted (a duplicate would show twice)."""
    per_window: dict[int, list[int]] = {}
    for grant in grants:
        per_window.setdefault(grant.window, []).extend(
            range(grant.first_position, grant.first_position + grant.granted)
        )
    return {window: sorted(positions) for window, positions in per_window.items()}


def busiest_span(times: list[Fraction]) -> int:
    """The most send times in any half-open 1-second span (the busiest one starts at a send)."""
    times = sorted(times)
    return max((bisect_left(times, t + 1) - i for i, t in enumerate(times)), default=0)


def test_each_grant_knows_its_positions_and_slots():
    bucket = unique("slots")
    first, second = reserve(bucket, 5, 3, now=FAR), reserve_up_to(bucket, 5, 4, now=FAR)
    assert (first.first_position, second.first_position, second.granted) == (0, 3, 2)
    assert second.not_before(1) == pytest.approx(FAR + 4 / 5)  # position 4 of 5: 0.8 s in
    assert second.slot_end(1) == pytest.approx(FAR + 1)  # the last slot ends with the window
    assert second.not_after(0) == FAR + 1  # every token is good until its window ends
    later = reserve(bucket, 5, 1, now=FAR)
    assert (later.window, later.first_position) == (FAR + 1, 0)


def test_a_window_reserved_mid_second_never_hands_out_a_started_slot():
    """Positions follow the clock: at 0.5 s into a window, limit 10, slots 0-4 have begun, so
    the first grant starts at 5 (not 0, which would go out at once, bunched)."""
    bucket = unique("mid-second")
    quiet = reserve(bucket, 10, 2, now=FAR + 0.5)
    assert (quiet.window, quiet.first_position) == (FAR, 5)
    assert quiet.not_before(0) == pytest.approx(FAR + 0.5)
    assert reserve(bucket, 10, 1, now=FAR + 0.55).first_position == 7  # the count is ahead of the clock: just added to
    assert reserve(bucket, 10, 1, now=FAR + 0.81).first_position == 9  # the count lags the clock again: moved up to it
    assert stored(bucket) == {FAR: 10}  # positions 0-4 and 8 were never granted: their slots had begun
    assert reserve(bucket, 10, 1, now=FAR + 0.95).window == FAR + 1  # every slot of FAR has begun
    late = reserve_up_to(unique("late"), 10, 5, now=FAR + 0.75)
    assert (late.window, late.first_position, late.granted) == (FAR, 8, 2)  # what is left of the second


def test_a_whatsapp_window_reserved_mid_second_follows_the_clock(settings, monkeypatch):
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER, settings.RATE_LIMIT_WHATSAPP_ACCOUNT = 10, 1000
    account = unique("account")
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", account)
    number = unique("mid-number")
    first = reserve_for_send("whatsapp", number, 2, now=FAR + 0.3)
    second = reserve_for_send("whatsapp", number, 2, now=FAR + 0.7)
    assert (first.first_position, second.first_position) == (3, 7)
    assert stored(f"whatsapp#{number}") == {FAR: 9}
    assert stored(account) == {FAR: 4}  # the account counts only the tokens granted


def test_positions_are_exact_under_threads():
    """6 threads race for one bucket at 5/s (pinned clock, so they pile into the same windows):
    in every window the positions granted are 0 .. count-1, each exactly once."""
    bucket, limit = unique("positions"), 5

    def work(i):
        return [
            reserve(bucket, limit, 1 + (i + k) % 3, now=FAR) if k % 2 else reserve_up_to(bucket, limit, 4, now=FAR)
            for k in range(3)
        ]

    grants = [g for per_thread in run_threads(6, work) for g in per_thread]
    counts = stored(bucket)
    assert positions_by_window(grants) == {window: list(range(count)) for window, count in counts.items()}
    assert len(counts) >= 3  # they really had to share windows and move on


def test_whatsapp_positions_are_exact_under_threads(settings, monkeypatch):
    """The two-bucket transaction returns no values: positions come from its compare-and-add on
    the number's bucket. 6 threads on 2 numbers under one account, pinned clock: per number and
    window the positions are 0 .. count-1 exactly once, and the account is the numbers' sum."""
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER, settings.RATE_LIMIT_WHATSAPP_ACCOUNT = 4, 6
    account = unique("account")
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", account)
    numbers = [unique("number-a"), unique("number-b")]

    def work(i):
        return [
            reserve_for_send("whatsapp", numbers[i % 2], 1 + (i + k) % 3, up_to=bool(k % 2), now=FAR) for k in range(3)
        ]

    grants = [g for per_thread in run_threads(6, work) for g in per_thread]
    per_number = {number: stored(f"whatsapp#{number}") for number in numbers}
    for number, counts in per_number.items():
        mine = [g for g in grants if g.buckets[0] == f"whatsapp#{number}"]
        assert positions_by_window(mine) == {window: list(range(count)) for window, count in counts.items()}
        assert max(counts.values()) <= 4
    assert stored(account) == dict(sum((Counter(c) for c in per_number.values()), Counter()))


requests = st.lists(st.tuples(st.booleans(), st.integers(1, 6)), min_size=1, max_size=8)


@settings_for_hypothesis(
    max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limit=st.integers(1, 6), plan=requests, whatsapp=st.booleans(), lateness=st.data())
def test_paced_sends_never_exceed_the_limit_in_any_one_second_span(
    settings, monkeypatch, limit, plan, whatsapp, lateness
):
    """Any sequence of exact and partial reservations, one bucket or WhatsApp's two: sends at
    their slots' starts put at most ``limit`` in every 1-second span; sends anywhere inside
    their slots at most ``limit + 1`` (the bound docs/design/rate-limits.md explains). Exact
    arithmetic: the float helpers are checked against the same positions."""
    number = unique("pace")
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER, settings.RATE_LIMIT_WHATSAPP_ACCOUNT = limit, 1000
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", unique("account"))
    on_time: list[Fraction] = []
    late: list[Fraction] = []
    for partial, n in plan:
        n = n if partial else min(n, limit)
        left = n
        while left:
            if whatsapp:
                grant = reserve_for_send("whatsapp", number, left, up_to=partial, now=FAR)
            else:
                grant = (reserve_up_to if partial else reserve)(number, limit, left, now=FAR)
            for i in range(grant.granted):
                start = grant.window + Fraction(grant.first_position + i, limit)
                assert grant.not_before(i) == pytest.approx(float(start), abs=1e-6)
                assert grant.slot_end(i) == pytest.approx(float(start + Fraction(1, limit)), abs=1e-6)
                on_time.append(start)
                # anywhere in [start, start + 1/limit): a late but still valid call start
                late.append(start + Fraction(lateness.draw(st.integers(0, 99)), 100 * limit))
            left -= grant.granted
    assert len(on_time) == sum(n if partial else min(n, limit) for partial, n in plan)  # none dropped
    assert busiest_span(on_time) <= limit
    assert busiest_span(late) <= limit + 1


def test_unpaced_window_starts_would_exceed_the_limit():
    """The check above can fail: the old rule (any time inside the window) lets the end of one
    second and the start of the next crowd one span to nearly twice the limit."""
    limit = 5
    end_of_first = [FAR + Fraction(99, 100)] * limit
    start_of_second = [FAR + 1 + Fraction(k, 100) for k in range(limit)]
    assert busiest_span(end_of_first + start_of_second) == 2 * limit
