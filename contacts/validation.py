"""Normalising what people type: phones to E.164, emails to lower case.

Used by the page form, the API and the CSV import alike, so all three accept and refuse the same
input with the same words.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_NAME = 200


class InvalidValue(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    text = raw.strip()
    region = settings.DEFAULT_PHONE_REGION or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        hint = "" if region else " in international format, e.g. +14155550123"
        raise InvalidValue(f"'{text}' is not a phone number; write it{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(f"'{text}' is not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    text = raw.strip().lower()
    try:
        validate_email(text)
    except ValidationError:
        raise InvalidValue(f"'{raw.strip()}' is not a valid email address") from None
    return text


def normalise_name(raw: str) -> str:
    text = " ".join(raw.split())
    if len(text) > MAX_NAME:
        raise InvalidValue(f"name is longer than {MAX_NAME} characters")
    return text
