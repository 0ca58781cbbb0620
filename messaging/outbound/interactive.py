"""WhatsApp interactive list messages: a body, a button that opens the list, and sections of rows.

Meta refuses a list that breaks its limits, and a refused send is only found out at the worker;
so the same limits are checked here, for the admin's menu form and for every send request.
"""

from __future__ import annotations

from typing import Any

# WhatsApp Cloud API limits for interactive "list" messages.
MAX_BUTTON = 20
MAX_BODY = 1024
MAX_SECTIONS = 10
MAX_ROWS = 10  # in all sections together
MAX_SECTION_TITLE = 24
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200


def list_errors(spec: Any) -> dict[str, str]:
    """What is wrong with a list message spec ``{"body", "button", "sections": [{"title", "rows":
    [{"id", "title", "description"}]}]}``, by field; empty when it can be sent."""
    if not isinstance(spec, dict):
        return {"interactive": "must be an object with body, button and sections"}
    errors: dict[str, str] = {}
    body, button, sections = spec.get("body"), spec.get("button"), spec.get("sections")
    if not isinstance(body, str) or not body.strip():
        errors["interactive.body"] = "is required"
    elif len(body) > MAX_BODY:
        errors["interactive.body"] = f"is {len(body)} characters; WhatsApp allows {MAX_BODY}"
    if not isinstance(button, str) or not button.strip():
        errors["interactive.button"] = "is required"
    elif len(button) > MAX_BUTTON:
        errors["interactive.button"] = f"is {len(button)} characters; WhatsApp allows {MAX_BUTTON}"
    if not isinstance(sections, list) or not sections:
        errors["interactive.sections"] = "give at least one section with rows"
        return errors
    if len(sections) > MAX_SECTIONS:
        errors["interactive.sections"] = f"{len(sections)} sections; WhatsApp allows {MAX_SECTIONS}"
    rows_seen: list[str] = []
    for s, section in enumerate(sections):
        where = f"interactive.sections.{s}"
        if not isinstance(section, dict) or not isinstance(section.get("rows"), list) or not section["rows"]:
            errors[where] = "needs at least one row"
            continue
        title = section.get("title") or ""
        if not isinstance(title, str) or len(title) > MAX_SECTION_TITLE:
            errors[f"{where}.title"] = f"must be text of at most {MAX_SECTION_TITLE} characters"
        elif len(sections) > 1 and not title.strip():
            errors[f"{where}.title"] = "is required when there is more than one section"
        for r, row in enumerate(section["rows"]):
            errors.update(_row_errors(f"{where}.rows.{r}", row, rows_seen))
    if len(rows_seen) > MAX_ROWS:
        errors["interactive.sections"] = f"{len(rows_seen)} rows in all; WhatsApp allows {MAX_ROWS}"
    return errors


def _row_errors(where: str, row: Any, ids_seen: list[str]) -> dict[str, str]:
    if not isinstance(row, dict):
        ids_seen.append("")
        return {where: "must be an object with id and title"}
    errors: dict[str, str] = {}
    row_id, title, description = row.get("id"), row.get("title"), row.get("description")
    if not isinstance(row_id, str) or not row_id.strip() or len(row_id) > MAX_ROW_ID:
        errors[f"{where}.id"] = f"is required, at most {MAX_ROW_ID} characters"
    elif row_id in ids_seen:
        errors[f"{where}.id"] = f"'{row_id}' is used twice; row ids must be unique"
    ids_seen.append(row_id if isinstance(row_id, str) else "")
    if not isinstance(title, str) or not title.strip():
        errors[f"{where}.title"] = "is required"
    elif len(title) > MAX_ROW_TITLE:
        errors[f"{where}.title"] = f"'{title}' is {len(title)} characters; WhatsApp allows {MAX_ROW_TITLE}"
    if description is not None and (not isinstance(description, str) or len(description) > MAX_ROW_DESCRIPTION):
        errors[f"{where}.description"] = f"must be text of at most {MAX_ROW_DESCRIPTION} characters"
    return errors


def meta_list(spec: dict[str, Any]) -> dict[str, Any]:
    """The ``interactive`` object of Meta's message JSON for a (valid) list spec."""
    sections = []
    for section in spec["sections"]:
        rows = []
        for row in section["rows"]:
            item = {"id": row["id"], "title": row["title"]}
            if row.get("description"):
                item["description"] = row["description"]
            rows.append(item)
        entry: dict[str, Any] = {"rows": rows}
        if section.get("title"):
            entry["title"] = section["title"]
        sections.append(entry)
    return {"type": "list", "body": {"text": spec["body"]}, "action": {"button": spec["button"], "sections": sections}}
