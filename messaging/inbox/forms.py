"""The inbox's forms: a reply (free-form text, or an approved template with its values) and the
record-consent confirmation. The rules live in messaging.outbound.send and messaging.inbox.actions."""

from __future__ import annotations

from typing import Any

from django import forms

from messaging.forms import template_request
from messaging.inbox.actions import MAX_NOTE
from messaging.outbound.senders.whatsapp import MAX_TEXT


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(choices=[("text", "Text"), ("template", "Template")], required=False, initial="text")
    text = forms.CharField(required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    template = forms.CharField(required=False, max_length=600)  # "name|language"
    # A template's values come as a field per variable (header_1, body_1, button_0_1…), drawn by
    # messaging/_template_fields.html and read by messaging.forms.template_request, as on the
    # contact page's composer.

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("kind") == "template":
            if not data.get("template"):
                self.add_error("template", "Pick an approved template.")
        elif not (data.get("text") or "").strip():
            self.add_error("text", "Write a message.")
        return data

    def request_data(self) -> dict[str, Any]:
        """What inbox.actions.reply (and so send_message) takes: text, or the template and its values."""
        data = self.cleaned_data
        if data.get("kind") != "template":
            return {"text": data["text"]}
        return {"template": template_request(data["template"], self.data)}


class ConsentForm(forms.Form):
    confirmed = forms.BooleanField(
        required=True,
        label="The customer agreed to receive WhatsApp messages",
        error_messages={"required": "Tick the box to confirm the customer agreed to receive WhatsApp messages."},
    )
    note = forms.CharField(required=False, max_length=MAX_NOTE, label="Note (optional): how and when they agreed")
