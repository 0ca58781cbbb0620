"""The compose form: what a person fills in; messaging.outbound.send.parse does the rules. Also what
a picked template asks for, which every form with a template picker shows (compose, inbox
reply, the bulk wizard): one field per variable (``header_1``, ``body_1``, ``button_0_1``…) and
the template rendered with what is typed so far (messaging/_template_fields.html draws both;
static/js/app.js keeps the preview live). docs/design/composer.md."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from messaging import business_numbers
from messaging.channels import Channel, allowed_senders
from messaging.outbound import media, template_catalog
from messaging.whatsapp_table import WaTemplate
from wecare.errors import FieldErrors


def chosen_template(data: Mapping[str, Any]) -> dict:
    """What the template picked in a form's ``data`` ("name|language") asks for, so the form can
    ask for exactly that: its parameters, a field per variable and its text to preview with the
    values typed so far. Empty when none is picked."""
    name, _, language = (data.get("template") or "").partition("|")
    template = template_catalog.find(name, language) if name else None
    if template is None:
        return {}
    body = next((c.get("text", "") for c in template.components or [] if str(c.get("type", "")).upper() == "BODY"), "")
    needs = template_catalog.expected_parameters(template)
    parameters = template_parameters(data, needs)
    return {
        "template_needs": needs,
        "template_preview": body,
        "template_fields": template_fields(template, needs, parameters),
        "template_rendered": template_catalog.render(template, parameters),
    }


# What a template unknown here asks for: nothing, so the send's own check names what is wrong.
EMPTY_NEEDS: dict[str, Any] = {"header": 0, "body": 0, "buttons": [], "headerMedia": None}


def template_request(choice: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``template`` a send takes, from the picker's "name|language" and the form's data (a
    field per variable): every composer with a template picker builds its send with this."""
    name, _, language = choice.partition("|")
    template = template_catalog.find(name, language)
    needs = template_catalog.expected_parameters(template) if template else EMPTY_NEEDS
    return {"name": name, "language": language, "parameters": template_parameters(data, needs)}


def template_missing(choice: str, data: Mapping[str, Any], *, given_elsewhere: Collection[str] = ()) -> tuple[str, ...]:
    """Why the picked template cannot be sent with the values typed so far, in the catalog's own
    sentences ("This template needs 2 values; you gave none."); empty when it can. A media header
    counts as missing: only a composer with a file field (the contact page's) can fill it.
    ``given_elsewhere`` names parts ("body", "header") whose values come from somewhere else (a
    bulk audience CSV's columns, per recipient), so nothing typed is needed for them here."""
    if not choice:
        return ("Pick an approved template.",)
    template = template_request(choice, data)
    parameters = dict(template["parameters"])
    found = template_catalog.find(template["name"], template["language"])
    needs = template_catalog.expected_parameters(found) if found else EMPTY_NEEDS
    for part in given_elsewhere:
        parameters[part] = ["given elsewhere"] * needs[part]  # stands in for the per-recipient values
    try:
        template_catalog.validate(template["name"], template["language"], parameters)
    except FieldErrors as exc:
        return tuple(exc.errors.values())
    return ()


@dataclass(frozen=True)
class VariableField:
    """One input for one ``{{n}}`` of a template: its name in the form, its label, what was typed,
    Meta's example value (a hint), the slot of the preview it fills, and a sentence shown under it
    (the bulk wizard's: where a CSV gives the value instead)."""

    name: str
    label: str
    value: str
    example: str
    fills: str
    hint: str = ""


def template_parameters(data: Mapping[str, Any], needs: dict[str, Any]) -> dict[str, Any]:
    """The send's parameters from a field per variable; a form that still posts the older boxes
    of one value per line (``header_params``, ``body_params``, ``button_params``) is read too."""
    parameters: dict[str, Any] = {}
    for part in ("header", "body"):
        values = [str(data.get(f"{part}_{n}") or "").strip() for n in range(1, needs[part] + 1)]
        if not any(values) and data.get(f"{part}_params"):
            values = _lines(data.get(f"{part}_params"))
        parameters[part] = values if any(values) else []
    buttons = [
        [str(data.get(f"button_{i}_{n}") or "").strip() for n in range(1, count + 1)]
        for i, count in enumerate(needs["buttons"])
    ]
    if not any(any(values) for values in buttons) and data.get("button_params"):
        lines = iter(_lines(data.get("button_params")))  # one per button that takes one, in order
        buttons = [[next(lines, "")] if count else [] for count in needs["buttons"]]
    parameters["buttons"] = [values if any(values) else [] for values in buttons]
    return parameters


def template_fields(template: WaTemplate, needs: dict[str, Any], parameters: dict[str, Any]) -> list[VariableField]:
    """A field per variable, in the order the customer reads them: header, body, link buttons."""
    examples = _examples(template)
    fields = []
    for part, title in (("header", "Header"), ("body", "Body")):
        given = parameters.get(part) or []
        for n in range(1, needs[part] + 1):
            value = given[n - 1] if n <= len(given) else ""
            example = examples.get(part, [])[n - 1] if n <= len(examples.get(part, [])) else ""
            fields.append(VariableField(f"{part}_{n}", f"{title} {{{{{n}}}}}", value, example, f"{part}-{n}"))
    for i, count in enumerate(needs["buttons"]):
        given = (parameters.get("buttons") or [])[i] if i < len(parameters.get("buttons") or []) else []
        for n in range(1, count + 1):
            value = given[n - 1] if n <= len(given) else ""
            fields.append(
                VariableField(f"button_{i}_{n}", f"Link button {i + 1}, {{{{{n}}}}}", value, "", f"button-{i}-{n}")
            )
    return fields


def _examples(template: WaTemplate) -> dict[str, list[str]]:
    """Meta's sample values from the template's definition (``example.header_text``/``body_text``)."""
    found: dict[str, list[str]] = {}
    for component in template.components or []:
        example = component.get("example") or {}
        kind = str(component.get("type", "")).upper()
        if kind == "BODY" and example.get("body_text"):
            found["body"] = [str(v) for v in example["body_text"][0]]
        elif kind == "HEADER" and example.get("header_text"):
            found["header"] = [str(v) for v in example["header_text"]]
    return found


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


class ConsentForm(forms.Form):
    """Record on the contact's page that the customer agreed to a channel: a person states it, with
    how they agreed (the evidence note the consent history keeps)."""

    channel = forms.ChoiceField(choices=[(c.value, c.value) for c in Channel])
    confirmed = forms.BooleanField(
        required=True, error_messages={"required": "Tick the box to confirm the customer agreed."}
    )
    note = forms.CharField(
        max_length=500,
        error_messages={"required": "Say how the customer agreed (for example: on the phone today)."},
    )


class ComposeForm(forms.Form):
    channel = forms.ChoiceField(choices=[(c.value, c.value) for c in Channel])
    sender = forms.ChoiceField(choices=())
    kind = forms.ChoiceField(
        choices=[("text", "Text"), ("template", "Template"), ("media", "Image / file")], required=False, initial="text"
    )
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    template = forms.CharField(required=False)  # "name|language"
    subject = forms.CharField(required=False, max_length=998)
    html = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), label="HTML (optional)")
    file = forms.FileField(required=False)
    caption = forms.CharField(required=False, max_length=1024)
    file_type: str | None = None  # the uploaded file's MIME type, found from its content by clean_file

    def __init__(self, *args, channel: str = "whatsapp", **kwargs):
        super().__init__(*args, **kwargs)
        senders = allowed_senders(Channel(channel))
        sender = self.fields["sender"]
        assert isinstance(sender, forms.ChoiceField)  # declared above; narrows Field for the type check
        sender.choices = [(s, business_numbers.label(s)) for s in senders]  # named: "Sales · +91 …"

    def clean_file(self):
        """Only what WhatsApp takes, judged from the bytes (the browser's Content-Type and the
        name are the sender's to choose); ``file_type`` is then the type found."""
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                self.file_type = media.check_file(upload, upload.size)
            except media.MediaRefused as refusal:
                raise forms.ValidationError(str(refusal)) from None
        return upload
