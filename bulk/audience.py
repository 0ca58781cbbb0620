"""Who a bulk job is for: the audience an operator chooses, resolved to one row per recipient.

An ``AudienceSpec`` is exactly one of

* a **contact filter**: ``search`` text (as the contacts search box: name, phone or email
  substring) and/or ``opted_in=True`` ("every live contact with opt-in on the job's channel");
  both together narrow each other. An empty filter is refused, never read as "everyone".
* **CSV text**: a header row naming ``phone`` (WhatsApp, SMS) or ``email`` (email), plus optional
  template parameter columns ``param1..paramN`` (the template body's values, in order) and
  ``header1..headerN`` (the header's). Other columns (a ``name`` to help the reader) are ignored.
  A CSV never creates a contact and never implies consent: a row whose phone or email has no
  live contact is refused ``NO_CONTACT``; consent is the contact's own, checked by the gate.
* a **list of contact ids** (the API).

``resolve(spec, channel)`` turns it into ``ResolvedRecipient`` rows in the audience's order.
The same contact twice is one recipient: later rows are refused ``DUPLICATE``. Rows refused here
keep their place, so the preview and the report account for every row given.

DynamoDB requests: contact ids, one BatchGetItem per 100; CSV, one Query on the phone or email
index per row; filters page the live-contacts index as the contacts search does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from contacts import queries
from contacts.models import LIVE, OPT_IN_FIELDS, Contact
from contacts.validation import InvalidValue, normalise_email, normalise_phone
from wecare import safe_csv
from wecare.errors import FieldErrors

MAX_RECIPIENTS = 50_000  # one job; a larger campaign is several jobs (a preview must stay readable)
MAX_CSV_BYTES = 5 * 1024 * 1024

NO_CONTACT = "NO_CONTACT"
DUPLICATE = "DUPLICATE"
INVALID_ADDRESS = "INVALID_ADDRESS"
AUDIENCE_SENTENCES = {
    NO_CONTACT: "No live contact has this {address}; a CSV never creates contacts or consent.",
    DUPLICATE: "This contact is already a recipient of the job (an earlier row).",
    INVALID_ADDRESS: "This is not a valid {address}.",
}

PARAM_COLUMN = re.compile(r"^(param|header)(\d+)$")


@dataclass
class AudienceSpec:
    """Exactly one kind of audience; see the module docstring."""

    search: str | None = None
    opted_in: bool = False
    csv_text: str | None = None
    contact_ids: list[str] | None = None

    @property
    def kind(self) -> str:
        kinds = [
            k
            for k, given in (
                ("filter", bool((self.search or "").strip()) or self.opted_in),
                ("csv", self.csv_text is not None),
                ("ids", self.contact_ids is not None),
            )
            if given
        ]
        if len(kinds) != 1:
            raise FieldErrors({"audience": "give exactly one of: a filter (search and/or optedIn), csv, or contactIds"})
        return kinds[0]

    def describe(self) -> dict[str, Any]:
        """What is stored on the job (the CSV itself is not: its rows are the recipients)."""
        kind = self.kind
        if kind == "filter":
            return {"kind": kind, "search": (self.search or "").strip() or None, "optedIn": self.opted_in}
        if kind == "csv":
            return {"kind": kind, "rows": max(0, len((self.csv_text or "").strip().splitlines()) - 1)}
        return {"kind": kind, "count": len(self.contact_ids or [])}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> AudienceSpec:
        """From the API's JSON: {"search", "optedIn"} | {"csv"} | {"contactIds"}."""
        if not isinstance(data, dict):
            raise FieldErrors({"audience": "must be an object"})
        ids = data.get("contactIds")
        if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids)):
            raise FieldErrors({"audience.contactIds": "must be a list of contact ids"})
        return AudienceSpec(
            search=data.get("search") or None,
            opted_in=bool(data.get("optedIn")),
            csv_text=data.get("csv"),
            contact_ids=ids,
        )


@dataclass
class ResolvedRecipient:
    """One row of the audience. ``refused`` is an audience reason (NO_CONTACT, DUPLICATE,
    INVALID_ADDRESS) or None; the gate's own verdict comes later, in the preview."""

    row: int  # 1-based position in the audience (for a CSV: the data row, header excluded)
    contact_id: str | None
    address: str  # what the row named (CSV) or the contact's address on the channel
    parameters: dict[str, list[str]] | None = None  # per-row template parameters {"body": [...], "header": [...]}
    refused: str | None = None
    contact: Contact | None = field(default=None, repr=False, compare=False)


def _address_field(channel: str) -> str:
    return "email" if channel == "email" else "phone"


def resolve(spec: AudienceSpec, channel: str) -> list[ResolvedRecipient]:
    """The audience's recipients, in order, each with its contact loaded (or refused)."""
    kind = spec.kind
    if kind == "ids":
        recipients = _from_ids(spec.contact_ids or [], channel)
    elif kind == "csv":
        recipients = _from_csv(spec.csv_text or "", channel)
    else:
        recipients = _from_filter(spec, channel)
    if len(recipients) > MAX_RECIPIENTS:
        raise FieldErrors({"audience": f"has {len(recipients)} recipients; one job takes at most {MAX_RECIPIENTS}"})
    _refuse_duplicates(recipients)
    return recipients


def _refuse_duplicates(recipients: list[ResolvedRecipient]) -> None:
    seen: set[str] = set()
    for recipient in recipients:
        if recipient.refused or not recipient.contact_id:
            continue
        if recipient.contact_id in seen:
            recipient.refused = DUPLICATE
        seen.add(recipient.contact_id)


def _address(contact: Contact | None, channel: str) -> str:
    return (getattr(contact, _address_field(channel), None) or "") if contact else ""


def _from_ids(contact_ids: list[str], channel: str) -> list[ResolvedRecipient]:
    if not contact_ids:
        raise FieldErrors({"audience.contactIds": "is empty"})
    unique = list(dict.fromkeys(contact_ids))
    found: dict[str, Contact] = {}
    for start in range(0, len(unique), 100):
        for contact in Contact.batch_get(unique[start : start + 100], consistent_read=True):
            found[contact.contactId] = contact
    # An unknown id resolves to no contact: the gate refuses it CONTACT_DELETED, like a single send.
    return [
        ResolvedRecipient(row=i, contact_id=cid, address=_address(found.get(cid), channel), contact=found.get(cid))
        for i, cid in enumerate(contact_ids, start=1)
    ]


def _from_filter(spec: AudienceSpec, channel: str) -> list[ResolvedRecipient]:
    search = (spec.search or "").strip()
    contacts: list[Contact] = []
    if search:
        cursor = None
        while True:  # every page of the search, as the contacts page would show them
            page = queries.search_contacts(search, cursor=cursor, limit=200)
            contacts.extend(page.items)
            cursor = page.next_cursor
            if not cursor or len(contacts) > MAX_RECIPIENTS:
                break
        if spec.opted_in:
            contacts = [c for c in contacts if c.opted_in(channel)]
    else:
        opt_in = getattr(Contact, OPT_IN_FIELDS[channel])
        opted_in = opt_in == True  # noqa: E712 - a DynamoDB condition, not a Python comparison
        contacts = list(Contact.live.query(LIVE, filter_condition=opted_in, scan_index_forward=False, page_size=500))
    contacts = [c for c in contacts if not c.is_deleted]
    return [
        ResolvedRecipient(row=i, contact_id=c.contactId, address=_address(c, channel), contact=c)
        for i, c in enumerate(contacts, start=1)
    ]


def _parameters(row: dict[str, str], columns: dict[str, list[tuple[int, str]]]) -> dict[str, list[str]] | None:
    values = {
        part: [(row.get(name) or "").strip() for _, name in sorted(cols)] for part, cols in columns.items() if cols
    }
    return values or None


def read_csv(text: str) -> safe_csv.Table:
    """The audience CSV read whole, before any lookup: a file the csv module cannot read is a
    FieldErrors naming the line, never a 500 (and the wizard's step 1 refuses it at once)."""
    if len(text.encode()) > MAX_CSV_BYTES:
        raise FieldErrors({"audience.csv": f"is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB"})
    try:
        return safe_csv.read(text)
    except safe_csv.BadCsv as exc:
        raise FieldErrors({"audience.csv": f"cannot be read at {exc}"}) from None


def _parameter_columns(header: list[str]) -> dict[str, list[tuple[int, str]]]:
    """The template parameter columns of a CSV's (lowercased) header: (n, column name) per part."""
    columns: dict[str, list[tuple[int, str]]] = {"body": [], "header": []}
    for name in header:
        match = PARAM_COLUMN.match(name)
        if match:
            columns["body" if match.group(1) == "param" else "header"].append((int(match.group(2)), name))
    return columns


def template_columns(text: str) -> dict[str, list[int]]:
    """Which template values a CSV audience gives per row: {"body": [1, 2], "header": []} for
    ``param1``, ``param2`` columns. A part with any column takes all its values from the CSV (the
    values typed in the wizard for that part are replaced). Empty parts when the CSV is unreadable
    (the preview says why)."""
    try:
        header = [name.lower() for name in read_csv(text).header]
    except FieldErrors:
        return {"body": [], "header": []}
    return {part: sorted(n for n, _ in cols) for part, cols in _parameter_columns(header).items()}


def _from_csv(text: str, channel: str) -> list[ResolvedRecipient]:
    table = read_csv(text)
    header = [name.lower() for name in table.header]
    address_field = _address_field(channel)
    if address_field not in header:
        raise FieldErrors({"audience.csv": f"needs a header row with a '{address_field}' column for {channel}"})
    columns = _parameter_columns(header)
    recipients: list[ResolvedRecipient] = []
    for number, (_, cells) in enumerate(table.rows, start=1):
        row = {name.lower(): value for name, value in cells.items()}
        raw = row.get(address_field, "").strip()
        params = _parameters(row, columns)
        try:
            address = normalise_email(raw) if address_field == "email" else normalise_phone(raw)
        except InvalidValue:
            recipients.append(
                ResolvedRecipient(row=number, contact_id=None, address=raw, parameters=params, refused=INVALID_ADDRESS)
            )
            continue
        contact = (
            queries.find_live_by_email(address) if address_field == "email" else queries.find_live_by_phone(address)
        )
        recipients.append(
            ResolvedRecipient(
                row=number,
                contact_id=contact.contactId if contact else None,
                address=address,
                parameters=params,
                refused=None if contact else NO_CONTACT,
                contact=contact,
            )
        )
        if number > MAX_RECIPIENTS:
            break
    if not recipients:
        raise FieldErrors({"audience.csv": "has no rows under its header"})
    return recipients


__all__ = [
    "AUDIENCE_SENTENCES",
    "DUPLICATE",
    "INVALID_ADDRESS",
    "MAX_RECIPIENTS",
    "NO_CONTACT",
    "AudienceSpec",
    "ResolvedRecipient",
    "resolve",
]
