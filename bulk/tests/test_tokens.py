"""The bulk worker's rate tokens (``bulk.worker.Tokens``): one reservation per window, each
token handed out no earlier than its own slot, and what a window's end leaves unused is let go.

The worker's clock is replaced by a virtual one (the seam under test is when ``take`` hands out
which token; DynamoDB and the limiter stay real, on the real clock), so nothing here depends on
how fast this machine is."""

from __future__ import annotations

import math
import time
import uuid

import pytest

from bulk import worker
from messaging import ratelimit


class VirtualClock:
    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> VirtualClock:
    virtual = VirtualClock(math.floor(time.time()))  # a window's start: no slot has passed yet
    monkeypatch.setattr(worker, "time", virtual)  # the worker's clock only: ratelimit keeps the real one
    return virtual


@pytest.fixture
def number(settings, monkeypatch) -> str:
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER = 4
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", f"test-account-{uuid.uuid4().hex[:10]}")
    return f"test-number-{uuid.uuid4().hex[:10]}"


def test_it_hands_out_each_token_at_its_slot(clock, number):
    tokens = worker.Tokens("whatsapp", number)
    tokens.wanted = 4
    handed_out = []
    for _ in range(4):
        assert tokens.take("whatsapp", number) == tokens.reservation.window + 1  # good for its second
        handed_out.append(clock.now)
    reservation = tokens.reservation
    assert tokens.reservations == 1  # one reservation for the window's 4 tokens
    assert handed_out == [reservation.not_before(i) for i in range(4)]  # 0.25 s apart, not bunched


def test_it_lets_go_what_is_left_when_the_window_has_passed(clock, number):
    tokens = worker.Tokens("whatsapp", number)
    tokens.wanted = 4
    tokens.take("whatsapp", number)
    first = tokens.reservation
    clock.now = first.not_before(2) + 0.01  # a slow recipient: slot 1 began meanwhile
    tokens.take("whatsapp", number)
    assert tokens.used == 2  # still in its window: the next token, sent at once
    clock.now = first.window + 1  # the whole window passed with 2 tokens unused
    deadline = tokens.take("whatsapp", number)
    assert tokens.reservations == 2 and tokens.reservation.window > first.window
    assert deadline == tokens.reservation.not_after(0)
