"""Reads for the Agent page and /api/ai/interactions: the interaction log of a day with its
filters (status, rating, business number) in cursor pages, and the quality figures per day
(suggestions, used as is, used edited and how much, discarded, mean rating, latency p50/p95,
tokens, estimated cost). Both read the ``day-createdAt-index``, never a scan.
docs/design/agent.md, "The Agent page".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.http import QueryDict

from ai import index_reads, pricing
from ai.models import AIInteraction, Status
from messaging.inbox import paging
from wecare.dynamo import Cursor, Page, now

PAGE_SIZE = 25
RATINGS = ("helpful", "not_helpful")
# The figures read each day's interactions through the day index; a day with more than this is
# counted from its newest this many, and the page says so ("at least").
FIGURES_DAY_CAP = 2000
MAX_FIGURE_DAYS = 31


def today() -> str:
    return now().strftime("%Y-%m-%d")


@dataclass(frozen=True)
class LogFilters:
    day: str = ""
    status: str = ""
    rating: str = ""
    business: str = ""

    @classmethod
    def from_query(cls, query: QueryDict | dict[str, Any]) -> LogFilters:
        """Values from a request; anything unknown is dropped rather than refused (a page link)."""
        day = str(query.get("day") or "")
        try:
            date.fromisoformat(day)
        except ValueError:
            day = today()
        status = str(query.get("status") or "")
        rating = str(query.get("rating") or "")
        return cls(
            day=day,
            status=status if status in {s.value for s in Status} else "",
            rating=rating if rating in (*RATINGS, "none") else "",
            business=str(query.get("business") or "")[:100],
        )

    @property
    def scope(self) -> str:
        """A cursor is good only for the list it came from."""
        return f"ai-log:{self.day}:{self.status}:{self.rating}:{self.business}"

    def query(self) -> str:
        """The filters as a query string (for the next page's link)."""
        parts = {"day": self.day, "status": self.status, "rating": self.rating, "business": self.business}
        q = QueryDict(mutable=True)
        q.update({k: v for k, v in parts.items() if v})
        return q.urlencode()

    def condition(self) -> Any:
        conditions: list[Any] = []
        if self.status:
            conditions.append(AIInteraction.status == self.status)
        if self.rating == "none":
            conditions.append(AIInteraction.rating.does_not_exist())
        elif self.rating:
            conditions.append(AIInteraction.rating == self.rating)
        if self.business:
            conditions.append(AIInteraction.businessNumber == self.business)
        condition = None
        for c in conditions:
            condition = c if condition is None else condition & c
        return condition


def log_page(filters: LogFilters, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page[AIInteraction]:
    """One page of the day's interactions, newest first. The filters are DynamoDB filters, so a
    page is filled by a bounded number of reads (messaging.inbox.paging) and may end short."""
    condition = filters.condition()
    items, key = paging.filled(
        lambda left, start: index_reads.query(
            AIInteraction.by_day,
            filters.day,
            scan_index_forward=False,
            filter_condition=condition,
            limit=left,
            last_evaluated_key=start,
        ),
        limit,
        Cursor.decode(cursor, scope=filters.scope),
        AIInteraction,
    )
    return Page(items, Cursor.encode(key, scope=filters.scope))


# --- the figures per day -----------------------------------------------------------------------


@dataclass
class DayFigures:
    day: str
    suggestions: int = 0  # drafted (pending or acted on), not skipped nor failed
    used: int = 0
    edited: int = 0
    discarded: int = 0
    superseded: int = 0
    blocked: int = 0
    failed: int = 0
    pending: int = 0
    mean_edit_ratio: float | None = None
    rated: int = 0
    helpful: int = 0
    mean_rating: float | None = None  # helpful = 1, not helpful = 0
    latency_p50_ms: int | None = None
    latency_p95_ms: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_cost: Decimal = Decimal(0)
    capped: bool = False  # more than FIGURES_DAY_CAP interactions: counted from the newest
    edit_ratios: list[float] = field(default_factory=list, repr=False)
    latencies: list[float] = field(default_factory=list, repr=False)

    def add(self, item: AIInteraction) -> None:
        # Tokens first, of every interaction that used any: a failed one (or one still drafting
        # after an attempt that failed) was billed for the calls it made (docs/design/agent.md).
        usage = item.usage or {}
        self.input_tokens += int(usage.get("inputTokens") or 0)
        self.output_tokens += int(usage.get("outputTokens") or 0)
        status = item.status
        if status in (Status.SKIPPED, Status.GENERATING):
            return
        if status == Status.FAILED:
            self.failed += 1
            return
        self.suggestions += 1
        counter = {
            Status.USED: "used",
            Status.EDITED: "edited",
            Status.DISCARDED: "discarded",
            Status.SUPERSEDED: "superseded",
            Status.BLOCKED: "blocked",
            Status.PENDING: "pending",
        }.get(Status(status))
        if counter:
            setattr(self, counter, getattr(self, counter) + 1)
        if status == Status.EDITED and item.editRatio is not None:
            self.edit_ratios.append(float(item.editRatio))
        if item.rating in RATINGS:
            self.rated += 1
            self.helpful += item.rating == "helpful"
        if item.latencyMs is not None:
            self.latencies.append(float(item.latencyMs))

    def finish(self) -> DayFigures:
        self.mean_edit_ratio = statistics.fmean(self.edit_ratios) if self.edit_ratios else None
        self.mean_rating = self.helpful / self.rated if self.rated else None
        self.latency_p50_ms = percentile(self.latencies, 50)
        self.latency_p95_ms = percentile(self.latencies, 95)
        self.estimated_cost = pricing.estimated_cost(self.input_tokens, self.output_tokens)
        return self

    @property
    def cost_per_suggestion(self) -> Decimal | None:
        return self.estimated_cost / self.suggestions if self.suggestions else None


def percentile(values: list[float], p: int) -> int | None:
    """The nearest-rank percentile (a value that occurred), None with no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return int(ordered[rank - 1])


def figures(days: int = 7, *, until: str | None = None) -> list[DayFigures]:
    """The figures of the last ``days`` days (today first), each from one bounded read of its day."""
    days = max(1, min(days, MAX_FIGURE_DAYS))
    last = date.fromisoformat(until) if until else now().date()
    result = []
    for back in range(days):
        day = (last - timedelta(days=back)).isoformat()
        figures_of_day = DayFigures(day)
        results = index_reads.query(AIInteraction.by_day, day, scan_index_forward=False, limit=FIGURES_DAY_CAP)
        seen = 0
        for item in results:
            figures_of_day.add(item)
            seen += 1
        figures_of_day.capped = seen >= FIGURES_DAY_CAP
        result.append(figures_of_day.finish())
    return result
