"""What the dashboard draws: ``Section``s, each a table of figures that the page also draws as a
chart (static/js/dashboard.js reads the table, so the two never disagree). Apps above messaging
(bulk, ai) add their own with ``register`` in their ``AppConfig.ready()``: messaging never imports
them (docs/design/README.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Number = int | float | None


@dataclass(frozen=True)
class Section:
    key: str  # the section's id on the page (its anchor)
    title: str
    note: str  # one sentence: what the figures are
    columns: Sequence[str]  # the first names the rows (an hour, a day, a queue); the others are series
    rows: Sequence[tuple[str, Sequence[Number]]]
    chart: str = "bar"  # "bar", "line", or "" for a table alone
    stacked: bool = False
    unit: str = ""  # "%": the values (of ``unit_columns``, else all) are percentages
    unit_columns: tuple[int, ...] = ()
    charted: tuple[int, ...] = ()  # the columns the chart draws (indexes into ``columns``); () every series
    empty: str = "Nothing yet."
    problems: list[str] = field(default_factory=list)  # what could not be read, shown above the table

    @property
    def head(self) -> list[dict[str, object]]:
        """The table's header cells: each series column says whether the chart draws it."""
        return [
            {"label": label, "series": bool(self.chart) and i > 0 and (not self.charted or i in self.charted)}
            for i, label in enumerate(self.columns)
        ]

    @property
    def body(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Each row's label and its cells as (raw value for the chart, text for a person)."""
        return [
            (label, [self._cell(i, value) for i, value in enumerate(values, start=1)]) for label, values in self.rows
        ]

    def _cell(self, column: int, value: Number) -> tuple[str, str]:
        if value is None:
            return "", "—"  # no figure: nothing sent that day, a queue not read
        suffix = " %" if self.unit == "%" and (not self.unit_columns or column in self.unit_columns) else ""
        return str(value), f"{value:,}{suffix}"


Source = Callable[[], Section | None]

_SOURCES: list[tuple[str, Source]] = []


def register(key: str, source: Source) -> None:
    """Add a section the dashboard draws after its own; registering a key twice keeps the first."""
    if all(existing != key for existing, _ in _SOURCES):
        _SOURCES.append((key, source))


def registered() -> list[Section]:
    """Each registered section; one that fails is logged and shown as unavailable, never a 500."""
    sections = []
    for key, source in _SOURCES:
        try:
            section = source()
        except Exception:
            log.exception("dashboard section failed", extra={"section": key})
            section = Section(key, key.replace("-", " ").capitalize(), "", ("",), (), chart="")
            section.problems.append("These figures could not be read just now; the log says why.")
        if section is not None:
            sections.append(section)
    return sections
