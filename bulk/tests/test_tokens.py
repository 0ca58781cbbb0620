"""The bulk worker's rate tokens (``bulk.pacing.Tokens``): reserved in batches the worker can use
on time, each token handed out no earlier than its own slot, and a token reached after its slot
(or its window) has ended is let go rather than sent late.

The worker's and the limiter's clock are replaced by a virtual one (the seam under test is when
``take`` hands out which token; DynamoDB and the limiter stay real), so nothing here depends on
how fast this machine is."""

from __future__ import annotations

import math
import time
import uuid

import pytest

from bulk import pacing
from messaging.outbound import ratelimit


class VirtualClock:
    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now

    monotonic = time

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> VirtualClock:
    virtual = VirtualClock(math.floor(time.time()))  # a window's start: no slot has passed yet
    monkeypatch.setattr(pacing, "time", virtual)
    monkeypatch.setattr(ratelimit, "time", virtual)  # the limiter places slots by the same clock
    monkeypatch.setattr(ratelimit, "_write_seconds", 0.0)  # virtual writes take no time
    return virtual


@pytest.fixture
def number(settings, monkeypatch) -> str:
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER = 4
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", f"test-account-{uuid.uuid4().hex[:10]}")
    return f"test-number-{uuid.uuid4().hex[:10]}"


def test_it_hands_out_each_token_at_its_slot(clock, number):
    tokens = pacing.Tokens("whatsapp", number)
    tokens.wanted = 4
    handed_out = []
    for _ in range(4):
        # good until its slot ends (0.25 s at 4/s): a call started later would be out of it
        assert tokens.take("whatsapp", number) == tokens.reservation.call_by(tokens.used - 1)
        assert tokens.reservation.call_by(tokens.used - 1) == tokens.reservation.slot_end(tokens.used - 1)
        handed_out.append(clock.now)
    window = tokens.reservation.window
    # The first token alone (the worker's pace is not known yet), then the window's other 3 in one.
    assert tokens.reservations == 2
    assert handed_out == [window + i / 4 for i in range(4)]  # 0.25 s apart, not bunched


def test_it_lets_go_what_is_left_when_the_window_has_passed(clock, number):
    tokens = pacing.Tokens("whatsapp", number)
    tokens.wanted = 4
    tokens.take("whatsapp", number)
    tokens.take("whatsapp", number)  # the second reservation: positions 1-3
    first = tokens.reservation
    assert (first.first_position, first.granted) == (1, 3)
    clock.now = first.not_before(1) + 0.01  # a slow recipient: the next slot began meanwhile
    tokens.take("whatsapp", number)
    assert tokens.used == 2  # still in its window: the next token, sent at once
    clock.now = first.window + 1  # the whole window passed with 1 token unused
    deadline = tokens.take("whatsapp", number)
    assert tokens.reservations == 3 and tokens.reservation.window > first.window
    assert deadline == tokens.reservation.call_by(0) == tokens.reservation.slot_end(0)


def test_a_token_reached_after_its_slot_is_let_go_not_sent_late(clock, number):
    tokens = pacing.Tokens("whatsapp", number)
    tokens.wanted = 4
    tokens.take("whatsapp", number)
    tokens.take("whatsapp", number)  # the second reservation: positions 1-3, slots 0.25 s long
    grant = tokens.reservation
    clock.now = grant.not_before(1) + 0.3  # a stall: the next token's slot ended 0.05 s ago
    tokens.take("whatsapp", number)
    assert tokens.used == 3  # that token was let go; the one whose slot is running was handed out
    assert clock.now == grant.not_before(1) + 0.3  # at once: its slot had begun


def test_a_worker_slower_than_a_slot_reserves_only_what_it_can_use_on_time(clock, number, settings):
    """At 4/s a slot is 0.25 s. A worker spending 0.4 s per send would reach each next token
    0.15 s later than the last: it asks for 1 + floor(1 / (0.4 * 4 - 1)) = 2 tokens at a time,
    and never sends more than one slot late."""
    tokens = pacing.Tokens("whatsapp", number)
    tokens.wanted = 40
    lateness = []
    for _ in range(8):
        tokens.take("whatsapp", number)
        lateness.append(clock.now - tokens.reservation.not_before(tokens.used - 1))
        clock.now += 0.4  # the provider call and the record
    assert tokens.reservation.granted == 2  # after the first token, batches of 2
    assert max(lateness) <= 0.25 + 1e-9  # at most one slot late
    fast = pacing.Tokens("whatsapp", number)
    fast.wanted, fast.per_send = 40, 0.01  # faster than a slot: the whole window at once
    assert fast._ask(4) == 40


def test_at_a_limit_with_slots_shorter_than_the_grace_it_asks_for_what_it_reaches_within_it(number):
    """At 1,000/s a slot is 1 ms, shorter than the 20 ms a token stays good after its slot begins
    (``GRACE``). A worker taking a token every 5 ms reaches token n at 5n ms and token n is good
    until n + 20 ms: 1 + floor(20 / 4) = 6 of them, not one write per token."""
    tokens = pacing.Tokens("whatsapp", number)
    tokens.wanted, tokens.per_send = 100, 0.005
    assert tokens._ask(1000) == 6
    tokens.per_send = 0.0005  # faster than a slot: all it still wants
    assert tokens._ask(1000) == 100
