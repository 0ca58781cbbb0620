"""A business number's quality and the portfolio's messaging limit as Meta reports them
(``phone_number_quality_update``): PHONE_QUALITY (``QUALITY#{phoneNumberId}``) keeps the last
event, limit and throughput with a bounded history; the tier limit follows the reported limit
(messaging.outbound.tier, where an admin's override still wins); a flag, a downgrade or a red
rating is alerted. Why: docs/design/account-health.md.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.urls import reverse

from contacts.validation import whatsapp_phone
from messaging.inbound.events import FieldChange
from messaging.inbound.health_events import event_key, named, phone_number_id, record_once, reported_at, text, to_alert
from messaging.outbound import tier
from messaging.whatsapp_table import WaPhoneQuality
from wecare.alerts import Kind, raise_alert

log = logging.getLogger(__name__)

# FLAGGED: quality is low and the limit cannot rise; DOWNGRADE: the limit was lowered.
ALERTED_EVENTS = frozenset({"FLAGGED", "DOWNGRADE"})
# A throughput change, not a messaging-limit change: Meta's example sends THROUGHPUT_UPGRADE with
# current_limit TIER_UNLIMITED, meaning higher throughput, not unlimited users.
THROUGHPUT_EVENTS = {"THROUGHPUT_UPGRADE": "HIGH", "THROUGHPUT_DOWNGRADE": "STANDARD"}


def apply(change: FieldChange) -> str:
    value = change.value
    event = (text(value.get("event")) or "").upper() or None
    # The portfolio's limit: max_daily_conversations_per_business since Meta moved limits to the
    # business portfolio; current_limit (deprecated) before, and in Meta's own example.
    portfolio_limit = text(value.get("max_daily_conversations_per_business"))
    limit = portfolio_limit or text(value.get("current_limit"))
    # The limit the tier follows: the portfolio's, else current_limit unless the event is about
    # throughput (then TIER_UNLIMITED there means higher throughput, not unlimited users).
    followed = portfolio_limit or (limit if event not in THROUGHPUT_EVENTS else None)
    old_limit = text(value.get("old_limit"))
    # Not in Meta's reference, but forwarded by some providers; used when present.
    rating = (text(value.get("quality_rating")) or text(value.get("new_quality_rating")) or "").upper() or None
    if not event and not limit and not rating:
        log.warning("phone quality change with no event, limit or rating", extra={"value": value})
        return "malformed"
    phone = phone_number_id(change)
    display = whatsapp_phone(text(value.get("display_phone_number")))
    who = phone or display or "unknown"
    at = reported_at(change)
    entry = {
        "kind": "quality",
        "event": event,
        "limit": limit,  # as Meta sent it, throughput words included
        "oldLimit": old_limit,
        "rating": rating,
        "at": at,
        "key": event_key(change),
    }

    def change_item(item: WaPhoneQuality) -> None:
        item.displayPhoneNumber = display or item.displayPhoneNumber
        if at < (item.reportedAt or ""):
            return  # an older event arriving late is history only
        item.reportedAt = at
        item.lastEvent = event
        if followed:
            item.previousMessagingLimit = old_limit or item.messagingLimit
            item.messagingLimit = followed
        if rating:
            item.qualityRating = rating
        if event in THROUGHPUT_EVENTS:
            item.throughputStatus = THROUGHPUT_EVENTS[event]

    def create() -> WaPhoneQuality:
        return WaPhoneQuality(pk=WaPhoneQuality.key(who), phoneNumberId=phone, receivedAt=at)

    outcome, _ = record_once(
        lambda: _get(WaPhoneQuality.key(who)), create, entry, change_item, history="qualityHistory"
    )
    log.info("phone quality", extra={"outcome": outcome, "phone_number_id": who, **entry})
    if followed:
        # Idempotent by itself (a report no later than the stored one changes nothing), so it
        # runs on a duplicate too: a worker that died after the write above still gets here.
        tier.record_reported_limit(followed, at=datetime.fromisoformat(at), phone_number_id=phone, event=event)
    if event in ALERTED_EVENTS or rating == "RED":
        number = named(who)
        if to_alert(outcome, Kind.QUALITY_RED, number, at):
            raise_alert(Kind.QUALITY_RED, number, _sentence(number, event, limit, old_limit, rating), link=_link())
    return outcome


def _sentence(who: str, event: str | None, limit: str | None, old_limit: str | None, rating: str | None) -> str:
    if event == "DOWNGRADE":
        said = f"WhatsApp lowered the messaging limit of {who}" + (f" to {limit}" if limit else "")
        said += f" (was {old_limit})" if old_limit else ""
        return said + ": its quality stayed low."
    if event == "FLAGGED":
        return f"WhatsApp flagged {who}: its quality is low, and its messaging limit cannot rise until it improves."
    return f"The quality rating of {who} is {rating}."


def _link() -> str:
    return reverse("business_numbers:list")


def _get(pk: str) -> WaPhoneQuality | None:
    try:
        item = WaPhoneQuality.get(pk, consistent_read=True)
    except WaPhoneQuality.DoesNotExist:
        return None
    return item if isinstance(item, WaPhoneQuality) else None
