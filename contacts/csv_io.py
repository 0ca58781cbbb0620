"""CSV in and out. Column names are the API's field names, so an export imports back as is
(wecare.safe_csv writes formula-like cells as text and reads them back unchanged)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contacts import queries
from contacts.models import LIVE, Contact
from wecare import safe_csv

COLUMNS = (
    "contactId",
    "name",
    "phone",
    "email",
    "whatsappUserId",
    "optInWhatsApp",
    "optInSms",
    "optInEmail",
    "createdAt",
    "updatedAt",
)
IMPORT_COLUMNS = ("name", "phone", "email", "optInWhatsApp", "optInSms", "optInEmail")
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0", ""}


CONSENT_COLUMNS = ("contactId", "channel", "at", "optedIn", "actor", "source", "detail", "evidence")


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(search: str = "") -> Iterator[str]:
    """Stream the live contacts the search finds (every one for no search), newest first, as
    the contacts page lists them, without holding them all in memory."""
    writer = safe_csv.Writer(_Echo())
    yield writer.writerow(COLUMNS)
    for contact in _matching(search.strip()):
        yield writer.writerow([_cell(getattr(contact, column)) for column in COLUMNS])


def consent_history_rows(contact_id: str) -> Iterator[str]:
    """A contact's consent history for an audit, newest first: every channel's events, the
    evidence as JSON so the file names what proves each change."""
    writer = safe_csv.Writer(_Echo())
    yield writer.writerow(CONSENT_COLUMNS)
    for event in queries.consent_history(contact_id):
        yield writer.writerow(
            [
                event.contactId,
                event.channel,
                event.at.isoformat(),
                _cell(event.optedIn),
                event.actor,
                event.source,
                event.detail,
                json.dumps(event.evidence, sort_keys=True, ensure_ascii=False),
            ]
        )


def _matching(search: str) -> Iterator[Contact]:
    if not search:
        yield from Contact.live.query(LIVE, scan_index_forward=False, page_size=500)
        return
    cursor = None
    while True:  # every page of the search, each one a bounded read
        page = queries.search_contacts(search, cursor=cursor, limit=500)
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass
class Row:
    line: int  # the line number a person sees in a spreadsheet (header is line 1)
    data: dict[str, Any] | None
    error: str | None = None


class BadFile(ValueError):
    pass


REJECTED_COLUMNS = ("line", "reason")


def rejected_rows(content: bytes, errors: list[dict]) -> Iterator[str]:
    """The rows an import refused, as the file had them, each after its line number and reason:
    fixed and saved, the file imports again (the two extra columns are ignored on import)."""
    table = safe_csv.read(content.decode("utf-8-sig"))
    by_line = dict(table.rows)
    writer = safe_csv.Writer(_Echo())
    yield writer.writerow([*REJECTED_COLUMNS, *table.header])
    for error in errors:
        record = by_line.get(int(error["line"]), {})
        yield writer.writerow([error["line"], error["reason"], *(record.get(name, "") for name in table.header)])


def parse(content: bytes) -> list[Row]:
    """Read an uploaded CSV into rows of contact fields, each either data or an error."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("the file is not UTF-8 text; save it as 'CSV UTF-8'") from None
    try:
        table = safe_csv.read(text)
    except safe_csv.BadCsv as exc:
        raise BadFile(f"{exc}; nothing was imported") from None
    if not table.header:
        raise BadFile("the file is empty; the first line must name the columns")
    headers = set(table.header)
    if not headers & {"phone", "email"}:
        raise BadFile(f"no 'phone' or 'email' column; the columns can be {', '.join(IMPORT_COLUMNS)}")
    rows = []
    for line, record in table.rows:
        if not any(cell.strip() for cell in record.values()):
            continue  # a line of only commas or spaces (a spreadsheet's blank last line) is no row
        data: dict[str, Any] = {}
        error = None
        for column in IMPORT_COLUMNS:
            raw = record.get(column, "").strip()
            if column.startswith("optIn"):
                if column not in headers:
                    continue
                if raw.lower() in TRUE:
                    data[column] = True
                elif raw.lower() in FALSE:
                    data[column] = False
                else:
                    error = f"{column} is '{raw}'; use true or false"
            elif raw:
                data[column] = raw
        rows.append(Row(line, None if error else data, error))
    return rows
