"""The contact form: Django handles the HTML side; contacts.actions.clean does the rules, so the
page refuses exactly what the API refuses, with the same words."""

from __future__ import annotations

from django import forms
from django.conf import settings

from contacts.models import Contact


class ContactForm(forms.Form):
    name = forms.CharField(required=False, max_length=200)
    # A national number is read in the business's country (DEFAULT_PHONE_REGION): the hint says so.
    phone = forms.CharField(
        required=False,
        max_length=32,
        help_text=f"As dialled in {settings.DEFAULT_PHONE_REGION}, or with + and the country code (e.g. +14155550123)",
    )
    email = forms.CharField(required=False, max_length=254)
    optInWhatsApp = forms.BooleanField(required=False, label="Opted in to WhatsApp")
    optInSms = forms.BooleanField(required=False, label="Opted in to SMS")
    optInEmail = forms.BooleanField(required=False, label="Opted in to email")
    consentEvidence = forms.CharField(
        required=False,
        max_length=500,
        label="Consent evidence",
        help_text=(
            "How the customer agreed, e.g. 'customer asked in a call on 2026-11-30'. Needed to opt SMS in again"
            " after the customer opted out (it also takes the number off the SMS opt-out list)."
        ),
    )

    OPT_IN_FIELDS = ("optInWhatsApp", "optInSms", "optInEmail")
    # Not a contact field: it goes into the consent history as the change's evidence.
    EVIDENCE_FIELD = "consentEvidence"

    def __init__(self, *args, evidence: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not evidence:  # only an edit can opt someone in again: a new contact has no history
            del self.fields[self.EVIDENCE_FIELD]

    @classmethod
    def for_contact(cls, contact: Contact, data=None) -> ContactForm:
        initial = {f: getattr(contact, f) for f in cls.base_fields if f != cls.EVIDENCE_FIELD}
        return cls(data=data, initial=initial, evidence=True)

    def add_field_errors(self, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Columns: name, phone, email, optInWhatsApp, optInSms, optInEmail"
    )

    MAX_BYTES = 10 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB; split it into several imports.")
        return upload
