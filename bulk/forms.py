"""The new-job wizard's forms: what a person fills in at each step. The rules (who is a recipient,
what a message needs, whether it may be sent) stay in bulk.audience, messaging.outbound.send and
bulk.actions, so the pages refuse exactly what the API refuses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django import forms

from bulk.audience import MAX_CSV_BYTES, read_csv
from messaging import business_numbers
from messaging.channels import CHANNEL_NAMES, Channel, allowed_senders
from messaging.forms import VariableField, template_missing, template_parameters, template_request
from messaging.outbound import template_catalog
from wecare.errors import FieldErrors

AUDIENCE_KINDS = [("filter", "Contacts matching a filter"), ("csv", "A CSV of phones or emails")]
MESSAGE_KINDS = [("text", "Text"), ("template", "Approved template")]
CSV_PREFIX = {"body": "param", "header": "header"}  # a CSV's column for a part's n-th value: param2
VARIABLE_FIELD = re.compile(r"^(header|body)_\d+$|^button_\d+_\d+$")  # a template variable's field


class AudienceForm(forms.Form):
    kind = forms.ChoiceField(choices=AUDIENCE_KINDS, widget=forms.RadioSelect, initial="filter")
    search = forms.CharField(required=False, max_length=200, label="Name, phone or email contains")
    opted_in = forms.BooleanField(required=False, initial=True, label="Only contacts opted in on the job's channel")
    csv_text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Paste CSV")
    csv_file = forms.FileField(required=False, label="…or upload a CSV file")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("kind") == "filter":
            if not (data.get("search") or "").strip() and not data.get("opted_in"):
                # An empty filter would mean "everyone"; bulk.audience refuses that too.
                self.add_error("search", "Give a search text, tick the opt-in box, or both.")
        elif data.get("kind") == "csv":
            upload = data.get("csv_file")
            if upload:
                if upload.size > MAX_CSV_BYTES:
                    self.add_error(
                        "csv_file",
                        f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it into several jobs.",
                    )
                    return data
                try:
                    data["csv_text"] = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    self.add_error("csv_file", "The file is not UTF-8 text; save it as CSV (UTF-8).")
                    return data
            if not (data.get("csv_text") or "").strip():
                self.add_error("csv_text", "Paste CSV rows or upload a file.")
            else:
                self._check_csv_reads(data["csv_text"], "csv_file" if upload else "csv_text")
        return data

    def _check_csv_reads(self, text: str, field: str) -> None:
        """Refuse here a CSV that cannot be read at all, so the wizard never carries it to the
        preview (which would refuse it again on every visit)."""
        try:
            read_csv(text)
        except FieldErrors as exc:
            self.add_error(field, f"The CSV {exc.errors['audience.csv']}.")

    def audience(self) -> dict:
        """The audience as bulk.audience.AudienceSpec.from_dict reads it (the API's JSON shape)."""
        data = self.cleaned_data
        if data["kind"] == "csv":
            return {"csv": data["csv_text"]}
        return {"search": (data.get("search") or "").strip() or None, "optedIn": bool(data.get("opted_in"))}


class MessageForm(forms.Form):
    name = forms.CharField(required=False, max_length=80, label="Campaign name")
    channel = forms.ChoiceField(choices=[(c.value, CHANNEL_NAMES[c]) for c in Channel])
    sender = forms.ChoiceField(choices=())
    # WhatsApp: more numbers for the same campaign; the recipients take the numbers in turn.
    also_from = forms.MultipleChoiceField(choices=(), required=False)
    kind = forms.ChoiceField(choices=MESSAGE_KINDS, required=False, initial="text")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    # "name|language"; its values come in a field per variable (header_1, body_1, button_0_1…),
    # drawn by messaging/_template_fields.html and read by messaging.forms.template_request.
    template = forms.CharField(required=False)
    subject = forms.CharField(required=False, max_length=998)

    def __init__(
        self,
        *args,
        channel: str = "whatsapp",
        chosen_sender: str | None = None,
        csv_columns: Mapping[str, list[int]] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        # The template values a CSV audience gives per recipient (bulk.audience.template_columns):
        # a part with any column takes all its values from the CSV, so none are needed here.
        self.csv_columns = {part: list(ns) for part, ns in (csv_columns or {}).items() if ns}
        # Only the allowlist is offered; bulk.actions checks the sender again at preview and start.
        sender = self.fields["sender"]
        assert isinstance(sender, forms.ChoiceField)  # declared above; narrows Field for the type check
        sender.choices = [(s, business_numbers.label(s)) for s in allowed_senders(Channel(channel))]
        also_from = self.fields["also_from"]
        assert isinstance(also_from, forms.MultipleChoiceField)
        # The other numbers: the one chosen in From sends anyway (choosing it redraws the step).
        first = chosen_sender or (sender.choices[0][0] if sender.choices else None)
        also_from.choices = [c for c in sender.choices if c[0] != first] if channel == Channel.WHATSAPP else []

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("channel") == Channel.WHATSAPP and data.get("kind") == "template":
            # Said here, in the catalog's words, so the preview is never reached without them.
            choice = data.get("template") or ""
            for sentence in template_missing(choice, self.data, given_elsewhere=self.csv_columns):
                self.add_error("template", sentence)
            for sentence in self._csv_gaps(choice):
                self.add_error("template", sentence)
        return data

    def _csv_gaps(self, choice: str) -> list[str]:
        """A part the CSV gives but not whole: its columns replace every value of that part."""
        name, _, language = choice.partition("|")
        template = template_catalog.find(name, language) if name else None
        if template is None:
            return []
        needs = template_catalog.expected_parameters(template)
        gaps = []
        for part, numbers in self.csv_columns.items():
            absent = [f"{CSV_PREFIX[part]}{n}" for n in range(1, needs[part] + 1) if n not in numbers]
            if absent:
                gaps.append(
                    f"Your CSV gives the template's {part} values but has no {' or '.join(absent)} column; "
                    "add it to the CSV (its columns replace every typed value of the " + part + ")."
                )
        return gaps

    def with_csv_hints(self, fields: list[VariableField]) -> list[VariableField]:
        """Each variable's field, saying under it when a CSV column gives the value instead."""
        hinted = []
        for field in fields:
            part, _, n = field.name.partition("_")
            if part in self.csv_columns and n.isdigit():
                column = f"{CSV_PREFIX[part]}{n}"
                hint = (
                    f"Each recipient's value comes from your CSV's {column} column; "
                    "a CSV value wins over one typed here."
                    if int(n) in self.csv_columns[part]
                    else f"Your CSV has no {column} column: add one, as its {part} columns replace what is typed here."
                )
                # No data-fills: what is typed here does not reach the customer, so the live preview
                # keeps showing the CSV's column (csv_rendered) rather than the typed value.
                field = replace(field, hint=hint, fills="")
            hinted.append(field)
        return hinted

    def csv_rendered(self, data: Mapping[str, Any]) -> template_catalog.Rendered | None:
        """The picked template as the step previews it when a CSV gives some of its values: those
        slots name their column ("[param1 from your CSV]"); a value the CSV's part lacks stays
        missing, as the send would find it."""
        name, _, language = str(data.get("template") or "").partition("|")
        template = template_catalog.find(name, language) if name else None
        if template is None:
            return None
        needs = template_catalog.expected_parameters(template)
        parameters = template_parameters(data, needs)
        for part, numbers in self.csv_columns.items():
            parameters[part] = [
                f"[{CSV_PREFIX[part]}{n} from your CSV]" if n in numbers else "" for n in range(1, needs[part] + 1)
            ]
        return template_catalog.render(template, parameters)

    def kept(self) -> dict:
        """What the step holds, to draw it again on the way back: the fields and each variable's value."""
        values = {k: str(v).strip() for k, v in self.data.items() if VARIABLE_FIELD.match(k)}
        return {**self.cleaned_data, **values}

    def message(self) -> dict:
        """The message as messaging.outbound.send.parse reads it (without the contact)."""
        data = self.cleaned_data
        message: dict = {"channel": data["channel"], "sender": data["sender"]}
        numbers = list(dict.fromkeys([data["sender"], *(data.get("also_from") or [])]))
        if data["channel"] == Channel.WHATSAPP and len(numbers) > 1:
            message["senders"] = numbers
        if data["channel"] == Channel.WHATSAPP and data.get("kind") == "template" and data.get("template"):
            # Values typed here are the defaults; a CSV's param/header columns replace them per row.
            message["template"] = template_request(data["template"], self.data)
        else:
            message["text"] = data.get("text") or None
        if data["channel"] == Channel.EMAIL:
            message["subject"] = data.get("subject") or None
        return message


class ConfirmForm(forms.Form):
    """Step 4. ``expected`` is the count the person saw in the preview; the box must be ticked
    when that count is above the threshold, and the backend refuses a count that has changed."""

    expected = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False)
    # The same content went to some of these people recently (bulk/repeats.py): send again anyway.
    confirm_repeat = forms.BooleanField(required=False)
