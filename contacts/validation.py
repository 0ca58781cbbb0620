"""Normalising what people type: phones to E.164, emails to lower case.

Used by the page form, the API and the CSV import alike, so all three accept and refuse the same
input with the same words.

What WhatsApp tells us is not typed by a person and is not judged by these rules: the number in a
message's ``from``/``wa_id`` is one WhatsApp verified, and libphonenumber's metadata lags new
number ranges, so it is kept as given (``whatsapp_phone``). See docs/design/inbound.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_NAME = 200
PHONE_PUNCTUATION = frozenset(" +-().")
# Meta's business-scoped user id: a two-letter country code, a period and up to 128 letters and
# digits; a parent BSUID has ENT between them ("US.ENT.11815799212886844830").
WHATSAPP_USER_ID = re.compile(r"[A-Z]{2}(?:\.ENT)?\.[A-Za-z0-9]{1,128}")


@dataclass(frozen=True)
class WhatsAppIdentity:
    """Who WhatsApp says wrote: the number it verified (E.164), the business-scoped user id it
    gave instead of (or besides) a number, or both."""

    phone: str | None = None
    user_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.phone or self.user_id)


class InvalidValue(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """E.164. A number without + (a national number, "98123 45680") is read in the business's
    country, DEFAULT_PHONE_REGION."""
    text = raw.strip()
    region = settings.DEFAULT_PHONE_REGION
    hint = "write it in international format, e.g. +14155550123"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(f"'{text}' is not a phone number; {hint}") from None
    if not phonenumbers.is_valid_number(number):
        if not text.startswith("+"):
            raise InvalidValue(f"'{text}' is not a phone number in {region}; {hint}")
        raise InvalidValue(f"'{text}' is not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def whatsapp_phone(wa_id: object) -> str | None:
    """A WhatsApp ``wa_id``/``from`` (digits, no "+") in E.164, without a validity check: WhatsApp
    verified the number. None when it holds no digit at all (a username-only sender)."""
    digits = "".join(ch for ch in str(wa_id or "") if ch.isascii() and ch.isdigit())
    return f"+{digits}" if digits else None


def whatsapp_user_id(raw: object) -> str | None:
    """A business-scoped user id as Meta wrote it, or None when ``raw`` is not one."""
    text = raw.strip() if isinstance(raw, str) else ""
    return text if WHATSAPP_USER_ID.fullmatch(text) else None


def same_phone(typed: str, stored: str | None) -> bool:
    """Whether what a person typed is the stored number, however punctuated: a number taken from
    WhatsApp stays acceptable when the edit form or API sends it back unchanged."""
    if not stored or not typed or not set(typed.strip()) <= PHONE_PUNCTUATION | set("0123456789"):
        return False
    return whatsapp_phone(typed) == stored


def normalise_email(raw: str) -> str:
    text = raw.strip().lower()
    try:
        validate_email(text)
    except ValidationError:
        raise InvalidValue(f"'{raw.strip()}' is not a valid email address") from None
    return text


# Characters a name never needs, which can hide or reorder what a person reads (U+202E before
# "fdp.exe" shows it as "exe.pdf"): C0 and C1 controls, the zero-width space, word joiner and
# byte order mark, and the bidi embeddings, overrides and isolates. The zero-width (non-)joiners
# U+200C/U+200D stay: Indic scripts and emoji sequences are spelt with them. Lone surrogates (JSON
# can carry them) cannot be stored as UTF-8 at all. Whitespace controls (tab, newline) become
# spaces first, so "Asha\nRao" keeps two words.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def visible_text(raw: str) -> str:
    """One line of visible text: every run of whitespace one space, invisible characters gone.
    Also for names shown as given rather than stored on a contact (a WhatsApp profile name)."""
    text = _INVISIBLE.sub("", " ".join(raw.split()))
    return " ".join(text.split())  # a removed character may have sat between two spaces


def normalise_name(raw: str) -> str:
    """A contact's name as visible text. The result can be empty (a name of only control
    characters): no name."""
    text = visible_text(raw)
    if len(text) > MAX_NAME:
        raise InvalidValue(f"name is longer than {MAX_NAME} characters")
    return text
