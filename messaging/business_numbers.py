"""Business numbers by name: the display name and phone number of each allowlisted sender (a
WhatsApp phone-number id, the SMS pool or one of its numbers, the SES address), so every page says
"Sales · +91 98765 00001" rather than an internal id. A WhatsApp number's name and phone come from
AWS (``refresh_from_aws``, hourly and on demand); an admin names the others, and a WhatsApp number
AWS has not described yet, on an audited page (/admin/business-numbers/). Stored as one
``BUSINESS_NUMBER#{sender}`` item each in the WhatsApp table. Why and how: docs/design/business-numbers.md.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.urls import reverse

from messaging.channels import Channel, allowed_senders
from messaging.whatsapp_table import WaBusinessNumber
from wecare import audit
from wecare.alerts import AUTH_ERROR_CODES, Kind, raise_alert
from wecare.aws import client
from wecare.dynamo import now

log = logging.getLogger(__name__)

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
    name: str = ""  # the admin's
    phone: str = ""  # the admin's, E.164
    aws_name: str = ""  # AWS's display name (WhatsApp only), which wins over the admin's
    aws_phone: str = ""
    quality: str = ""  # Meta's quality rating at the last refresh (GREEN, YELLOW, RED)
    refreshed_at: str = ""

    @property
    def from_aws(self) -> bool:
        return bool(self.aws_name or self.aws_phone)

    @property
    def shown_name(self) -> str:
        return self.aws_name or self.name

    @property
    def shown_phone(self) -> str:
        return self.aws_phone or self.phone

    @property
    def label(self) -> str:
        return label_for(self.sender, self.shown_name, self.shown_phone)

    @property
    def refreshed(self) -> datetime | None:
        return datetime.fromisoformat(self.refreshed_at) if self.refreshed_at else None


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
    return _number(number, "", _stored().get(number)).label


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
            found.append(_number(sender, channel.value, stored.get(sender)))
    return found


def _number(sender: str, channel: str, item: WaBusinessNumber | None) -> BusinessNumber:
    if item is None:
        return BusinessNumber(sender, channel)
    return BusinessNumber(
        sender,
        channel or item.channel,
        name=item.displayName or "",
        phone=item.phone or "",
        aws_name=item.awsDisplayName or "",
        aws_phone=item.awsPhone or "",
        quality=item.awsQualityRating or "",
        refreshed_at=item.awsRefreshedAt or "",
    )


def get(sender: str) -> BusinessNumber | None:
    """The allowlisted sender with its name and phone; None when it is not on the allowlist."""
    return next((n for n in allowlisted() if n.sender == sender), None)


def _set_or_remove(attribute: Any, value: str | None) -> Any:
    return attribute.set(value) if value else attribute.remove()


def save(sender: str, *, name: str, phone: str, user: Any) -> BusinessNumber:
    """Values already validated (messaging/business_number_forms.py). Audited with what was there
    before. Writes only the admin's attributes: a refresh from AWS at the same moment keeps its own."""
    before = get(sender)
    if before is None:
        raise ValueError(f"{sender!r} is not an allowlisted sender")
    WaBusinessNumber(pk=f"BUSINESS_NUMBER#{sender}").update(
        actions=[
            WaBusinessNumber.itemType.set(WaBusinessNumber),
            WaBusinessNumber.sender.set(sender),
            WaBusinessNumber.channel.set(before.channel),
            _set_or_remove(WaBusinessNumber.displayName, name),
            _set_or_remove(WaBusinessNumber.phone, phone),
            WaBusinessNumber.updatedBy.set(audit.actor_id(user)),
            # When it last changed: lists them on the itemType index.
            WaBusinessNumber.receivedAt.set(now().isoformat()),
        ]
    )
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


def _e164(number: str, shown: str) -> str:
    """AWS's ``phoneNumber`` in E.164 when it reads as a number (with or without its +), else the
    number as Meta shows it."""
    for raw in (number, shown):
        digits = raw.strip()
        if not digits:
            continue
        try:
            parsed = phonenumbers.parse(digits if digits.startswith("+") else f"+{digits}", None)
        except phonenumbers.NumberParseException:
            continue
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return shown or number


def _store_from_aws(sender: str, detail: dict[str, Any]) -> None:
    WaBusinessNumber(pk=f"BUSINESS_NUMBER#{sender}").update(
        actions=[
            WaBusinessNumber.itemType.set(WaBusinessNumber),
            WaBusinessNumber.sender.set(sender),
            WaBusinessNumber.channel.set(Channel.WHATSAPP.value),
            # Meta allows an empty display name (the model's minimum is 0): the admin's name then shows.
            _set_or_remove(WaBusinessNumber.awsDisplayName, (detail.get("displayPhoneNumberName") or "").strip()),
            _set_or_remove(
                WaBusinessNumber.awsPhone,
                _e164(detail.get("phoneNumber") or "", detail.get("displayPhoneNumber") or ""),
            ),
            _set_or_remove(WaBusinessNumber.awsQualityRating, detail.get("qualityRating") or ""),
            WaBusinessNumber.awsRefreshedAt.set(now().isoformat()),
            WaBusinessNumber.receivedAt.set(now().isoformat()),
        ]
    )


def refresh_from_aws() -> int:
    """Copy each allowlisted WhatsApp number's display name, phone number and quality rating from
    GetLinkedWhatsAppBusinessAccountPhoneNumber; returns how many were refreshed. A number AWS does
    not answer for (not linked, throttled, refused) keeps what it had, with a warning in the log,
    and the others are still refreshed: the next run (hourly) tries it again."""
    social = client("socialmessaging")
    refreshed = 0
    for sender in allowed_senders(Channel.WHATSAPP):
        try:
            answer = social.get_linked_whatsapp_business_account_phone_number(id=sender)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
            log.warning("business number not refreshed from AWS", extra={"sender": sender, "error": code})
            if code in AUTH_ERROR_CODES:  # every other number would be refused the same way
                raise_alert(
                    Kind.PROVIDER_AUTH,
                    "socialmessaging",
                    f"AWS refused GetLinkedWhatsAppBusinessAccountPhoneNumber ({code}): the WhatsApp numbers' "
                    "names cannot be refreshed; check the task role's social-messaging permissions.",
                    link=reverse("business_numbers:list"),
                )
                break
            continue
        _store_from_aws(sender, answer.get("phoneNumber") or {})
        refreshed += 1
    forget_cache()
    log.info("business numbers refreshed from AWS", extra={"refreshed": refreshed})
    return refreshed


@shared_task(name="messaging.refresh_business_numbers")  # hourly (settings.CELERY_BEAT_SCHEDULE)
def refresh_business_numbers_task() -> int:
    return refresh_from_aws()
