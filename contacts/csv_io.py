"""CSV in and out. Column names are the API's field names, so an export imports back as is."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contacts.models import LIVE, Contact

COLUMNS = ("contactId", "name", "phone", "email", "optInWhatsApp", "optInSms", "optInEmail", "createdAt", "updatedAt")
IMPORT_COLUMNS = ("name", "phone", "email", "optInWhatsApp", "optInSms", "optInEmail")
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0", ""}


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows() -> Iterator[str]:
    """Stream every live contact, newest first, without holding them all in memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for contact in Contact.live.query(LIVE, scan_index_forward=False, page_size=500):
        yield writer.writerow([_cell(getattr(contact, column)) for column in COLUMNS])


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


def parse(content: bytes) -> list[Row]:
    """Read an uploaded CSV into rows of contact fields, each either data or an error."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("the file is not UTF-8 text; save it as 'CSV UTF-8'") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise BadFile("the file is empty; the first line must name the columns")
    headers = {h.strip() for h in reader.fieldnames if h}
    if not headers & {"phone", "email"}:
        raise BadFile(f"no 'phone' or 'email' column; the columns can be {', '.join(IMPORT_COLUMNS)}")
    rows = []
    for record in reader:
        line = reader.line_num
        data: dict[str, Any] = {}
        error = None
        for column in IMPORT_COLUMNS:
            raw = (record.get(column) or "").strip()
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
