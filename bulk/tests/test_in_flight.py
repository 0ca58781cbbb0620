"""bulk.in_flight.InFlight: at most ``limit`` pieces of work at once, the caller held back until a
thread is free, and a pool thread's error raised in the caller's thread (nothing more started)."""

from __future__ import annotations

import threading
import time

import pytest

from bulk.in_flight import InFlight


def test_never_more_than_the_limit_run_at_once_and_all_run():
    calls = InFlight(3)
    lock, running, most, done = threading.Lock(), [0], [0], []

    def work(i: int) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
            done.append(i)

    for i in range(12):
        calls.submit(lambda i=i: work(i))
        assert calls.running <= 3  # submit waited for a free thread
    calls.close()
    assert sorted(done) == list(range(12))
    assert most[0] == 3  # they did overlap, up to the limit


def test_an_error_on_a_pool_thread_is_raised_to_the_caller_and_nothing_more_starts():
    calls = InFlight(1)
    started = []
    gate = threading.Event()

    def fail() -> None:
        gate.wait(5)
        raise RuntimeError("provider exploded")

    calls.submit(fail)
    gate.set()
    with pytest.raises(RuntimeError, match="provider exploded"):
        calls.wait(5)  # wakes when it has failed, and raises its error
    with pytest.raises(RuntimeError, match="provider exploded"):
        calls.submit(lambda: started.append("after"))
    with pytest.raises(RuntimeError, match="provider exploded"):
        calls.close()
    assert "after" not in started


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        InFlight(0)
