"""The admin's forms for WELCOME_CONFIG and MENU_CONFIG, with WhatsApp's own limits checked
here, where the admin can fix them, rather than at send time."""

from __future__ import annotations

from typing import Any

from django import forms

from messaging.outbound import interactive
from messaging.outbound.senders.whatsapp import MAX_TEXT
from messaging.outbound.template_catalog import approved_templates, expected_parameters

MAX_COOLDOWN_HOURS = 24 * 365


def cooldown_field(help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=0, max_value=MAX_COOLDOWN_HOURS, initial=24, label="Cooldown (hours)", help_text=help_text
    )


class WelcomeConfigForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Send a welcome")
    welcomeText = forms.CharField(
        required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}), label="Welcome text"
    )
    onlyOnFirstContact = forms.BooleanField(
        required=False, initial=True, label="Only to someone writing for the first time"
    )
    cooldownHours = cooldown_field(
        "At most one welcome per conversation in this many hours (0: no limit beyond once per message)."
    )
    outsideWindowTemplateName = forms.CharField(
        required=False,
        label="Template when the 24-hour window is closed",
        help_text="An approved template that takes no values; empty: no welcome outside the window.",
    )

    def clean_outsideWindowTemplateName(self) -> str:
        name = (self.cleaned_data.get("outsideWindowTemplateName") or "").strip()
        if not name:
            return ""
        matches = [t for t in approved_templates() if t.templateName == name]
        if not matches:
            raise forms.ValidationError(
                f"No approved template named '{name}'. Sync templates, or pick one from the list."
            )
        if takes_values(matches[0]):
            raise forms.ValidationError(
                f"'{name}' takes values; the welcome sends a template as it is, so pick one without any."
            )
        return name

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("enabled") and not (data.get("welcomeText") or "").strip():
            self.add_error("welcomeText", "Write the welcome text, or switch the welcome off.")
        return data


def takes_values(template: Any) -> bool:
    expected = expected_parameters(template)
    return bool(expected["header"] or expected["body"] or any(expected["buttons"]) or expected["headerMedia"])


class MenuConfigForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Answer the keywords with the menu")
    triggerKeywords = forms.CharField(
        max_length=500,
        initial="menu",
        label="Keywords",
        help_text="Comma-separated. The menu goes out when a whole "
        "message is one of them (case and punctuation ignored).",
    )
    bodyText = forms.CharField(
        max_length=interactive.MAX_BODY, widget=forms.Textarea(attrs={"rows": 3}), label="Body text"
    )
    buttonText = forms.CharField(
        max_length=interactive.MAX_BUTTON,
        label="Button text",
        help_text=f"At most {interactive.MAX_BUTTON} characters.",
    )
    rows = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Sections and rows",
        help_text=(
            "One row per line: id | title | description (optional). A line starting with # starts a section "
            f"with that title. At most {interactive.MAX_ROWS} rows in all; "
            f"a row title at most {interactive.MAX_ROW_TITLE} characters."
        ),
    )
    cooldownHours = cooldown_field(
        "At most one menu per conversation in this many hours (0: every time it is asked for)."
    )

    def clean_triggerKeywords(self) -> list[str]:
        words = [w.strip() for w in self.cleaned_data["triggerKeywords"].split(",") if w.strip()]
        if not words:
            raise forms.ValidationError("Give at least one keyword.")
        return words

    def clean_rows(self) -> list[dict[str, Any]]:
        sections, lines = parse_rows(self.cleaned_data["rows"])
        errors = interactive.list_errors({"body": "b", "button": "b", "sections": sections})
        if errors:
            raise forms.ValidationError([_explain(field, problem, lines) for field, problem in errors.items()])
        return sections

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "rows" in data:
            data["sections"] = data.pop("rows")
        return data


def parse_rows(text: str) -> tuple[list[dict[str, Any]], dict[tuple[int, int], int]]:
    """Sections from the textarea, and the line number each row came from (for messages)."""
    sections: list[dict[str, Any]] = []
    lines: dict[tuple[int, int], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            sections.append({"title": line.lstrip("#").strip(), "rows": []})
            continue
        if not sections:
            sections.append({"title": "", "rows": []})
        parts = [p.strip() for p in line.split("|")]
        row: dict[str, Any] = {"id": parts[0], "title": parts[1] if len(parts) > 1 else ""}
        if len(parts) > 2 and parts[2]:
            row["description"] = " | ".join(parts[2:])
        lines[(len(sections) - 1, len(sections[-1]["rows"]))] = number
        sections[-1]["rows"].append(row)
    return sections, lines


def format_rows(sections: list[dict[str, Any]]) -> str:
    """The textarea's text for stored sections (the inverse of parse_rows)."""
    out = []
    for section in sections or []:
        if section.get("title") or len(sections) > 1:
            out.append(f"# {section.get('title', '')}")
        for row in section.get("rows", []):
            out.append(
                " | ".join(p for p in (row.get("id", ""), row.get("title", ""), row.get("description") or "") if p)
            )
    return "\n".join(out)


def _explain(field: str, problem: str, lines: dict[tuple[int, int], int]) -> str:
    """'interactive.sections.0.rows.2.title' -> 'Line 4, title: …'."""
    parts = field.split(".")
    if len(parts) >= 5 and parts[1] == "sections" and parts[3] == "rows":
        line = lines.get((int(parts[2]), int(parts[4])))
        return f"Line {line}, {parts[5] if len(parts) > 5 else 'row'}: {problem}"
    if len(parts) >= 3 and parts[1] == "sections":
        what = "section title" if parts[-1] == "title" else "section"
        return f"Section {int(parts[2]) + 1} ({what}): {problem}"
    return f"Rows: {problem}"
