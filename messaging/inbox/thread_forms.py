"""The reply box of an SMS or email conversation: the text and, for email, the subject (filled
with "Re: …"). The rules (length per channel, the gate) live in messaging.outbound.send."""

from __future__ import annotations

from django import forms

from messaging.outbound.send import MAX_SUBJECT
from messaging.outbound.sms_segments import MAX_SMS_CHARS

MAX_EMAIL_TEXT = 100_000  # a plain-text reply; far above what a person types, below the request limit


class ThreadReplyForm(forms.Form):
    text = forms.CharField(
        max_length=max(MAX_SMS_CHARS, MAX_EMAIL_TEXT),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write a message."},
    )
    subject = forms.CharField(required=False, max_length=MAX_SUBJECT)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError("Write a message.")
        return text
