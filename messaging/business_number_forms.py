"""The admin's form for a business number's name and phone (messaging/business_numbers.py)."""

from __future__ import annotations

from django import forms

from contacts.validation import InvalidValue, normalise_phone, visible_text
from messaging.business_numbers import MAX_NAME


class BusinessNumberForm(forms.Form):
    name = forms.CharField(
        required=False,
        max_length=MAX_NAME,
        label="Display name",
        help_text='What staff see, e.g. "Sales". Empty: the phone number alone.',
    )
    phone = forms.CharField(
        required=False,
        max_length=32,
        label="Phone number",
        help_text="The number customers see, e.g. +91 98765 00001 (a number without + is read in the default country).",
    )

    def clean_name(self) -> str:
        return visible_text(self.cleaned_data.get("name") or "")

    def clean_phone(self) -> str:
        raw = (self.cleaned_data.get("phone") or "").strip()
        if not raw:
            return ""
        try:
            return normalise_phone(raw)
        except InvalidValue as exc:
            raise forms.ValidationError(str(exc)) from None
