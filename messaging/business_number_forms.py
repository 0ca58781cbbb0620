"""The admin's forms for a business number's name and phone (messaging/business_numbers.py) and for a
WhatsApp number's business profile (messaging/business_profile.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator

from contacts.validation import InvalidValue, normalise_phone, visible_text
from messaging import business_profile
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


def _web_address(label: str) -> forms.URLField:
    return forms.URLField(
        required=False,
        max_length=business_profile.MAX_WEBSITE,
        label=label,
        # Meta wants the scheme written out: an address typed without one gets https://.
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="With http:// or https://; a website, a Facebook page or an Instagram profile.",
    )


class _LinesField(forms.CharField):
    """Text of several lines, its line breaks counted as one character each as the browser's
    maxlength counts them (a form posts them as CR LF)."""

    def to_python(self, value: Any) -> str:
        return (super().to_python(value) or "").replace("\r\n", "\n").replace("\r", "\n")


class BusinessProfileForm(forms.Form):
    """A WhatsApp number's business profile, within Meta's limits (messaging/business_profile.py)."""

    about = forms.CharField(
        required=False,
        max_length=business_profile.MAX_ABOUT,
        label="About",
        help_text=f"One line under the profile picture, up to {business_profile.MAX_ABOUT} characters.",
    )
    description = _LinesField(
        required=False,
        max_length=business_profile.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Description",
        help_text=f"Up to {business_profile.MAX_DESCRIPTION} characters; links are not made clickable.",
    )
    address = forms.CharField(
        required=False, max_length=business_profile.MAX_ADDRESS, label="Address", help_text="Up to 256 characters."
    )
    email = forms.EmailField(required=False, max_length=business_profile.MAX_EMAIL, label="Email")
    website_1 = _web_address("Website")
    website_2 = _web_address("Second website")
    vertical = forms.ChoiceField(
        required=False,
        choices=[("", "Not set"), *business_profile.VERTICALS.items()],
        label="Category",
        help_text="The industry WhatsApp shows under the name.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_about(self) -> str:
        return visible_text(self.cleaned_data.get("about") or "")

    def clean_address(self) -> str:
        return visible_text(self.cleaned_data.get("address") or "")

    def clean_description(self) -> str:
        # Lines are kept (WhatsApp shows them); each line's invisible characters and extra spaces go.
        lines = (self.cleaned_data.get("description") or "").splitlines()
        return "\n".join(visible_text(line) for line in lines).strip()

    def profile_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        websites = [w for w in (data.get("website_1"), data.get("website_2")) if w]
        return {
            "about": data["about"],
            "description": data["description"],
            "address": data["address"],
            "email": data.get("email") or "",
            "websites": websites,
            "vertical": data.get("vertical") or "",
        }

    @classmethod
    def initial_for(cls, profile: business_profile.Profile) -> dict[str, Any]:
        websites = [*profile.websites, "", ""]
        return {
            **{name: getattr(profile, name) for name in ("about", "description", "address", "email", "vertical")},
            "website_1": websites[0],
            "website_2": websites[1],
            "version": profile.version,
        }


class MarkAppliedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
