"""The AI's section of the dashboard: suggestions per day and what people did with them, from the
Agent page's daily figures (``queries.figures``). Registered in ``AiConfig.ready()``: messaging
draws it without importing ai (docs/design/operations.md, "Dashboard").
"""

from __future__ import annotations

from datetime import date

from ai.review import queries
from messaging.dashboard.sections import Section, register

DAYS = 14


def section() -> Section:
    days = list(reversed(queries.figures(DAYS)))  # oldest first, as the other charts run
    return Section(
        key="ai",
        title="AI suggestions per day",
        note=f"Replies the agent drafted and what operators did with them, last {DAYS} days (the Agent page has more).",
        columns=("Day (UTC)", "Suggestions", "Used", "Edited", "Discarded"),
        rows=[
            (date.fromisoformat(day.day).strftime("%a %d %b"), [day.suggestions, day.used, day.edited, day.discarded])
            for day in days
        ],
        chart="line",
    )


def connect() -> None:
    register("ai", section)
