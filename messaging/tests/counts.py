"""The hourly counters as tests read them: every counter summed over the hours a test ran in."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from messaging import counters
from wecare.dynamo import now


def hours_since(started: datetime) -> list[str]:
    """The hours from ``started`` to now (a test may cross an hour's end)."""
    first = started.replace(minute=0, second=0, microsecond=0)
    return [counters.hour_key(first + timedelta(hours=n)) for n in range(int((now() - first) / timedelta(hours=1)) + 1)]


def totals(hours: list[str]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counts in counters.read(hours).values():
        total.update(counts)
    return total


def counted_since(started: datetime, before: Counter[str]) -> Counter[str]:
    """What was counted since ``before`` was read at ``started`` (only the counters that moved)."""
    after = totals(hours_since(started))
    after.subtract(before)
    return +after
