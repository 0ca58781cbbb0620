"""The dashboard's own sections: messages by status per hour and day, inbound volume and failure
rate per channel (all from the hourly counters: one BatchGetItem per hundred hours, never a scan
of the Messages table), DLQ depth per queue (live from SQS) and WhatsApp tier use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from messaging import counters
from messaging.channels import CHANNEL_NAMES
from messaging.dashboard.sections import Number, Section
from messaging.outbound import tier
from wecare import dlq
from wecare.queues import DEAD_LETTER_QUEUES

log = logging.getLogger(__name__)

HOURS = 48
DAYS = 14
STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True)
class Counts:
    """The hourly counters of the last ``DAYS`` days (the current one included), read once."""

    at: datetime
    by_hour: dict[str, dict[str, int]]

    @classmethod
    def load(cls, at: datetime) -> Counts:
        first = datetime.combine(at.date() - timedelta(days=DAYS - 1), datetime.min.time(), UTC)
        hours = int((at - first).total_seconds() // 3600) + 1
        keys = [counters.hour_key(first + timedelta(hours=n)) for n in range(hours)]
        return cls(at, counters.read(keys))

    def hours(self) -> list[datetime]:
        """The last ``HOURS`` hours, oldest first, the current one last."""
        current = self.at.replace(minute=0, second=0, microsecond=0)
        return [current - timedelta(hours=back) for back in range(HOURS - 1, -1, -1)]

    def days(self) -> list[date]:
        return [self.at.date() - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]

    def hour(self, at: datetime, what: str, channels: Sequence[str]) -> int:
        counts = self.by_hour.get(counters.hour_key(at), {})
        return sum(counts.get(counters.name(channel, what), 0) for channel in channels)

    def day(self, day: date, what: str, channels: Sequence[str]) -> int:
        start = datetime.combine(day, datetime.min.time(), UTC)
        return sum(self.hour(start + timedelta(hours=h), what, channels) for h in range(24))


def _hour_label(at: datetime) -> str:
    return at.strftime("%d %b %H:00")


def _day_label(day: date) -> str:
    return day.strftime("%a %d %b")


def _rate(failed: int, attempted: int) -> float | None:
    return round(100 * failed / attempted, 1) if attempted else None


def _channels_named(channel: str | None) -> str:
    return CHANNEL_NAMES.get(channel, channel) if channel else "every channel"


def per_hour(counts: Counts, channels: Sequence[str], channel: str | None) -> Section:
    return Section(
        key="per-hour",
        title=f"Messages per hour, last {HOURS} hours",
        note=f"Outbound messages by status and inbound messages, {_channels_named(channel)}; hours in UTC.",
        columns=("Hour (UTC)", "Sent", "Delivered", "Read", "Failed", "Inbound"),
        rows=[
            (
                _hour_label(hour),
                [counts.hour(hour, what, channels) for what in (*STATUSES, counters.INBOUND)],
            )
            for hour in counts.hours()
        ],
        chart="line",
    )


def per_day(counts: Counts, channels: Sequence[str], channel: str | None) -> Section:
    rows: list[tuple[str, Sequence[Number]]] = []
    for day in counts.days():
        values: list[Number] = [counts.day(day, what, channels) for what in (*STATUSES, counters.INBOUND)]
        values.append(_rate(counts.day(day, "failed", channels), counts.day(day, "attempted", channels)))
        rows.append((_day_label(day), values))
    return Section(
        key="per-day",
        title=f"Messages per day, last {DAYS} days",
        note=(
            f"Outbound messages by status and inbound messages, {_channels_named(channel)}. The failure rate "
            "is the messages that failed (at the provider call or reported later) over those that left."
        ),
        columns=("Day (UTC)", "Sent", "Delivered", "Read", "Failed", "Inbound", "Failure rate"),
        rows=rows,
        charted=(1, 2, 3, 4, 5),
    )


def inbound_per_day(counts: Counts) -> Section:
    return Section(
        key="inbound",
        title="Inbound messages per day, by channel",
        note=f"Messages customers sent us, last {DAYS} days.",
        columns=("Day (UTC)", *(CHANNEL_NAMES[c] for c in counters.CHANNELS)),
        rows=[
            (_day_label(day), [counts.day(day, counters.INBOUND, (c,)) for c in counters.CHANNELS])
            for day in counts.days()
        ],
        stacked=True,
    )


def failure_rate(counts: Counts) -> Section:
    return Section(
        key="failure-rate",
        title="Failure rate per day, by channel",
        note="Failed over sent or failed at the provider call, in per cent; a blank day sent nothing.",
        columns=("Day (UTC)", *(CHANNEL_NAMES[c] for c in counters.CHANNELS)),
        rows=[
            (
                _day_label(day),
                [_rate(counts.day(day, "failed", (c,)), counts.day(day, "attempted", (c,))) for c in counters.CHANNELS],
            )
            for day in counts.days()
        ],
        chart="line",
        unit="%",
    )


def dlq_depth() -> Section:
    """Live from SQS: one GetQueueAttributes per dead-letter queue."""
    rows: list[tuple[str, Sequence[Number]]] = []
    problems = []
    for queue in DEAD_LETTER_QUEUES:
        try:
            rows.append((queue, [dlq.depth(queue)]))
        except Exception:
            log.warning("dead-letter queue depth not read", extra={"queue": queue}, exc_info=True)
            rows.append((queue, [None]))
            problems.append(f"{queue}: its depth could not be read just now.")
    return Section(
        key="dlq",
        title="Dead-letter queues",
        note="Tasks parked after their last retry, per queue, now; an admin reads and replays them in Admin, DLQ.",
        columns=("Queue", "Messages"),
        rows=rows,
        problems=problems,
    )


def tier_use() -> Section:
    used, limit = tier.tier_status()
    return Section(
        key="tier",
        title="WhatsApp tier use",
        note=(
            "Unique customers reached outside their 24-hour service window in the moving 24 hours, by all "
            "the numbers of the business portfolio together, against its limit."
        ),
        columns=("Numbers", "Used", "Limit", "Use"),
        rows=[("All numbers", [used, limit, round(100 * used / limit, 1) if limit else None])],
        chart="",
        unit="%",
        unit_columns=(3,),
    )


def sections(channel: str | None, *, at: datetime) -> list[Section]:
    """The dashboard's own sections; ``channel`` (or every channel) for the per-hour and per-day ones."""
    counts = Counts.load(at)
    channels = (channel,) if channel else counters.CHANNELS
    return [
        per_hour(counts, channels, channel),
        per_day(counts, channels, channel),
        inbound_per_day(counts),
        failure_rate(counts),
        dlq_depth(),
        tier_use(),
    ]
