"""The compose form: what a person fills in; messaging.outbound.send.parse does the rules. Also what
a picked template asks for, which every form with a template picker shows (compose, inbox
reply, the bulk wizard)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from messaging import business_numbers
from messaging.channels import Channel, allowed_senders
from messaging.outbound import media, template_catalog


def chosen_template(data: Mapping[str, Any]) -> dict:
    """What the template picked in a form's ``data`` ("name|language") asks for, so the form can
    ask for exactly that: its parameters and its body to preview. Empty when none is picked."""
    name, _, language = (data.get("template") or "").partition("|")
    template = template_catalog.find(name, language) if name else None
    if template is None:
        return {}
    body = next((c.get("text", "") for c in template.components or [] if str(c.get("type", "")).upper() == "BODY"), "")
    return {"template_needs": template_catalog.expected_parameters(template), "template_preview": body}


class ComposeForm(forms.Form):
    channel = forms.ChoiceField(choices=[(c.value, c.value) for c in Channel])
    sender = forms.ChoiceField(choices=())
    kind = forms.ChoiceField(
        choices=[("text", "Text"), ("template", "Template"), ("media", "Image / file")], required=False, initial="text"
    )
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    template = forms.CharField(required=False)  # "name|language"
    header_params = forms.CharField(required=False)
    body_params = forms.CharField(required=False, help_text="Template body values, one per line")
    button_params = forms.CharField(required=False, help_text="One value per URL button that takes one")
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
