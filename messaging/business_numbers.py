"""Business numbers by name: the display name and phone number an admin gives each allowlisted
sender (a WhatsApp phone-number id, the SMS pool or one of its numbers, the SES address), so every
page says "Sales · +91 98765 00001" rather than an internal id. Stored as one
``BUSINESS_NUMBER#{sender}`` item each in the WhatsApp table, edited on an audited admin page
(/admin/business-numbers/). Why and how it is read: docs/design/business-numbers.md.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import phonenumbers

from messaging.channels import Channel, allowed_senders
from messaging.whatsapp_table import WaBusinessNumber
from wecare import audit
from wecare.dynamo import now

MAX_NAME = 40
SEPARATOR = " · "
# Names change rarely and a page may label dozens of rows: one read of all names per process at
# most this often; a save in this process is seen at once, another process's within the age.
CACHE_SECONDS = 30.0
# The ids' prefixes, read as words, for a sender nobody has named yet.
ID_WORDS = {"phone-number-id-": "WhatsApp number", "pool-": "SMS pool"}
SHORT_TAIL = 6


@dataclass(frozen=True)
class BusinessNumber:
    sender: str
    channel: str
    name: str = ""
    phone: str = ""  # E.164

    @property
    def label(self) -> str:
        return label_for(self.sender, self.name, self.phone)


_cache: dict[str, WaBusinessNumber] = {}
_cache_at = 0.0
_lock = threading.Lock()


def _stored() -> dict[str, WaBusinessNumber]:
    global _cache, _cache_at
    with _lock:
        if time.monotonic() - _cache_at > CACHE_SECONDS:
            items = WaBusinessNumber.item_type_index.query("BUSINESS_NUMBER")
            _cache = {i.sender: i for i in items if isinstance(i, WaBusinessNumber)}
            _cache_at = time.monotonic()
        return _cache


def forget_cache() -> None:
    """The next label reads the names again (after a save; tests)."""
    global _cache_at
    with _lock:
        _cache_at = 0.0


def format_phone(phone: str) -> str:
    """E.164 as people read it: "+919876500001" -> "+91 98765 00001"; anything else as given."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def short_id(sender: str) -> str:
    """A readable stand-in for an unnamed id: "phone-number-id-baa2…44ce54" -> "WhatsApp number …44ce54"."""
    if "@" in sender:
        return sender
    if sender.startswith("+"):
        return format_phone(sender)
    for prefix, words in ID_WORDS.items():
        if sender.startswith(prefix):
            rest = sender[len(prefix) :]
            return f"{words} …{rest[-SHORT_TAIL:]}" if len(rest) > SHORT_TAIL else f"{words} {rest}"
    return sender if len(sender) <= 2 * SHORT_TAIL else f"…{sender[-SHORT_TAIL:]}"


def label_for(sender: str, name: str, phone: str) -> str:
    # An SMS number or an email address is its own phone/address: shown beside the name.
    shown = format_phone(phone) if phone else (short_id(sender) if sender[:1] == "+" or "@" in sender else "")
    if name:
        return f"{name}{SEPARATOR}{shown}" if shown else name
    return shown or short_id(sender)


def label(number: str) -> str:
    """How pages name a business number: "Sales · +91 98765 00001"; the phone alone when it has no
    name; a short readable form of the id when it has neither. Never the bare internal id."""
    if not number:
        return ""
    item = _stored().get(number)
    if item is None:
        return label_for(number, "", "")
    return label_for(number, item.displayName or "", item.phone or "")


def channel_of(sender: str) -> Channel | None:
    for channel in Channel:
        if sender in allowed_senders(channel):
            return channel
    return None


def allowlisted() -> list[BusinessNumber]:
    """Every allowlisted sender with its name and phone, WhatsApp first, as the admin page lists them."""
    stored = _stored()
    found = []
    for channel in Channel:
        for sender in allowed_senders(channel):
            item = stored.get(sender)
            found.append(
                BusinessNumber(
                    sender,
                    channel.value,
                    name=(item.displayName or "") if item else "",
                    phone=(item.phone or "") if item else "",
                )
            )
    return found


def get(sender: str) -> BusinessNumber | None:
    """The allowlisted sender with its name and phone; None when it is not on the allowlist."""
    return next((n for n in allowlisted() if n.sender == sender), None)


def save(sender: str, *, name: str, phone: str, user: Any) -> BusinessNumber:
    """Values already validated (messaging/business_number_forms.py). Audited with what was there before."""
    before = get(sender)
    if before is None:
        raise ValueError(f"{sender!r} is not an allowlisted sender")
    WaBusinessNumber(
        pk=f"BUSINESS_NUMBER#{sender}",
        sender=sender,
        channel=before.channel,
        displayName=name or None,
        phone=phone or None,
        updatedBy=audit.actor_id(user),
        receivedAt=now().isoformat(),  # when it last changed; lists them on the itemType index
    ).save()
    forget_cache()
    audit.record(
        user,
        "business_number.set",
        "business_number",
        sender,
        name=name,
        phone=phone,
        before={"name": before.name, "phone": before.phone},
    )
    after = get(sender)
    assert after is not None  # it was allowlisted a moment ago
    return after


def refresh_from_aws() -> int:
    """Read each allowlisted WhatsApp number's display name and phone number from AWS and store
    them; returns how many were stored. (Part E of issue 15 builds it: this signature lets a
    display-name decision from the webhook call it meanwhile.)"""
    return 0
