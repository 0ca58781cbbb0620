"""Every CSV the platform writes or reads goes through here.

Writing: a cell a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab, a carriage return or NUL; their full-width forms too, to be safe) gets a leading ``'``, so
the spreadsheet shows it as text: the OWASP "CSV injection" advice. A customer chooses their own
WhatsApp profile name, and it becomes a contact's name.

Reading: our own export must import back as it was, so a cell that is ``'`` followed by what
the writer quotes loses that one ``'``. Cells that already start with ``'`` before a formula
character get one more on the way out, so the pair is exact for every value.

A malformed file (a quote opened and never closed swallows the rest of the file into one field,
which soon passes the csv module's field limit) is a ``BadCsv`` naming the line where the broken
row starts, never a ``csv.Error`` that would be a 500. What a person sees: docs/runbooks/reports.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

FORMULA_START = "=+-@\t\r\0\uff1d\uff0b\uff0d\uff20"
_NEEDS_QUOTE = re.compile(f"'*[{re.escape(FORMULA_START)}]")  # zero or more quotes, then a trigger
_WAS_QUOTED = re.compile(f"'+[{re.escape(FORMULA_START)}]")


class BadCsv(ValueError):
    """The text is not CSV we can read; ``line`` is where the unreadable row starts."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def text_cell(value: Any) -> str:
    """The cell for one value, safe to open in a spreadsheet."""
    text = "" if value is None else str(value)
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def read_cell(text: str) -> str:
    """Undo ``text_cell``: drop the one ``'`` it added."""
    return text[1:] if _WAS_QUOTED.match(text) else text


class Writer:
    """``csv.writer`` whose every cell goes through ``text_cell``. ``writerow`` returns what the
    output's ``write`` returns, so a streaming response can yield it."""

    def __init__(self, out: _Writable):
        self._writer = csv.writer(out)

    def writerow(self, cells: Iterable[Any]) -> Any:
        return self._writer.writerow([text_cell(cell) for cell in cells])


@dataclass
class Table:
    header: list[str]  # the first row's names, stripped
    rows: list[tuple[int, dict[str, str]]]  # (line the row ends on, {column: cell}); blank lines skipped


def read(text: str) -> Table:
    """Read the whole of a CSV text (a byte order mark is ignored). Missing cells read as "",
    cells beyond the header are ignored. Raises BadCsv for text the csv module cannot read."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in _next(reader) or []]
    rows: list[tuple[int, dict[str, str]]] = []
    while (cells := _next(reader)) is not None:
        if cells:
            rows.append(
                (
                    reader.line_num,
                    {name: read_cell(cells[i]) if i < len(cells) else "" for i, name in enumerate(header)},
                )
            )
    return Table(header, rows)


def _next(reader: Any) -> list[str] | None:
    start = reader.line_num + 1
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise BadCsv(start, _reason(exc)) from None


def _reason(error: csv.Error) -> str:
    if "field larger than field limit" in str(error):
        limit = csv.field_size_limit()
        return (
            f"a cell is longer than {limit:,} characters; "
            'most often a double quote (") opens a cell and is never closed'
        )
    return f"this row cannot be read as CSV ({error})"
