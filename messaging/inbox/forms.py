"""The inbox's forms: a reply (free-form text, or an approved template with its values) and the
record-consent confirmation. The rules live in messaging.outbound.send and messaging.inbox.actions."""

from __future__ import annotations

from typing import Any

from django import forms

from messaging.inbox.actions import MAX_NOTE
from messaging.outbound.senders.whatsapp import MAX_TEXT


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(choices=[("text", "Text"), ("template", "Template")], required=False, initial="text")
    text = forms.CharField(required=False, max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    template = forms.CharField(required=False, max_length=600)  # "name|language"
    header_params = forms.CharField(required=False, max_length=1000)
    body_params = forms.CharField(required=False, max_length=5000)
    button_params = forms.CharField(required=False, max_length=2000)

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
        name, _, language = data["template"].partition("|")
        return {
            "template": {
                "name": name,
                "language": language,
                "parameters": {
                    "header": _lines(data.get("header_params")),
                    "body": _lines(data.get("body_params")),
                    "buttons": [[value] for value in _lines(data.get("button_params"))],
                },
            }
        }


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ConsentForm(forms.Form):
    confirmed = forms.BooleanField(
        required=True,
        label="The customer agreed to receive WhatsApp messages",
        error_messages={"required": "Tick the box to confirm the customer agreed to receive WhatsApp messages."},
    )
    note = forms.CharField(required=False, max_length=MAX_NOTE, label="Note (optional): how and when they agreed")
