"""The admin's forms for WELCOME_CONFIG, MENU_CONFIG and the consent keywords, with WhatsApp's
own limits checked here, where the admin can fix them, rather than at send time."""

from __future__ import annotations

from typing import Any

from django import forms

from messaging.autoreply.keyword_rules import MAX_WORD, MAX_WORDS, normalise
from messaging.outbound import interactive
from messaging.outbound.senders.whatsapp import MAX_TEXT
from messaging.outbound.sms_segments import MAX_SMS_CHARS
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


def _word_list(text: str) -> list[str]:
    """One word or phrase per line; commas separate too."""
    return [w.strip() for line in text.splitlines() for w in line.split(",") if w.strip()]


class ConsentKeywordsForm(forms.Form):
    """A channel's consent keyword rules (messaging/autoreply/keyword_rules.py). Words are matched
    against a whole message after normalising, so the checks here are on normalised words."""

    optOutWords = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Opt-out words",
        help_text="One per line (or comma-separated). A message that is exactly one of them, "
        "ignoring case, punctuation and extra spaces, withdraws consent on this channel.",
    )
    optInWords = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Opt-in words",
        help_text="A message that is exactly one of them gives consent again. Empty: only a person can opt a "
        "customer back in.",
    )
    optOutButtons = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Opt-out template buttons (WhatsApp)",
        help_text="Quick-reply button labels or payloads of marketing templates that withdraw consent when "
        "tapped (WhatsApp Manager names its opt-out button “Stop promotions”). A tapped button that is an "
        "opt-out word also counts.",
    )
    optOutConfirmation = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Opt-out confirmation"
    )
    optInConfirmation = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Opt-in confirmation"
    )

    def __init__(self, *args: Any, channel: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel == "whatsapp":
            self.max_confirmation = MAX_TEXT
            self.fields["optOutConfirmation"].required = True
            self.fields["optOutConfirmation"].help_text = (
                "Sent once, through the safety gate, when a customer opts out (the only message allowed "
                "after an opt-out)."
            )
            self.fields["optInConfirmation"].required = True
            self.fields["optInConfirmation"].help_text = "Sent once when a customer opts in again."
        else:
            self.max_confirmation = MAX_SMS_CHARS
            del self.fields["optOutButtons"]
            for name in ("optOutConfirmation", "optInConfirmation"):
                self.fields[name].help_text = (
                    "Not sent by the platform: AWS answers the keyword with the response registered on the "
                    "number. Keep the same text there (docs/consent-keywords.md)."
                )

    def _words(self, name: str, *, required: bool) -> list[str]:
        words = _word_list(self.cleaned_data.get(name) or "")
        problems = []
        if required and not words:
            problems.append("Give at least one word.")
        if len(words) > MAX_WORDS:
            problems.append(f"At most {MAX_WORDS} entries; this has {len(words)}.")
        for word in words:
            if len(word) > MAX_WORD:
                problems.append(f"“{word[:40]}” is {len(word)} characters; at most {MAX_WORD}.")
            elif not normalise(word):
                problems.append(f"“{word}” is only punctuation or symbols; a customer could not type it as a word.")
        if problems:
            raise forms.ValidationError(problems)
        return words

    def clean_optOutWords(self) -> list[str]:
        return self._words("optOutWords", required=True)

    def clean_optInWords(self) -> list[str]:
        return self._words("optInWords", required=False)

    def clean_optOutButtons(self) -> list[str]:
        return self._words("optOutButtons", required=False)

    def _confirmation(self, name: str) -> str:
        text = (self.cleaned_data.get(name) or "").strip()
        if len(text) > self.max_confirmation:
            raise forms.ValidationError(f"Is {len(text)} characters; at most {self.max_confirmation}.")
        return text

    def clean_optOutConfirmation(self) -> str:
        return self._confirmation("optOutConfirmation")

    def clean_optInConfirmation(self) -> str:
        return self._confirmation("optInConfirmation")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        opt_out = {normalise(w): w for w in [*data.get("optOutWords", []), *data.get("optOutButtons", [])]}
        both = [word for word in data.get("optInWords", []) if normalise(word) in opt_out]
        if both:
            self.add_error(
                "optInWords",
                "Both an opt-in and an opt-out word (case and punctuation ignored): "
                + ", ".join(f"“{w}”" for w in both),
            )
        data.setdefault("optOutButtons", [])
        return data
