"""The WhatsApp Business Account's own events (``account_update``: restrictions, violations,
bans, partner changes…) and a number's display-name decisions (``phone_number_name_update``):
each recorded once as an ACCOUNT_EVENT item and alerted; a name decision also refreshes the
numbers' names from AWS. Why an item per event: docs/design/account-health.md.
"""

from __future__ import annotations

import json
import logging

from django.urls import reverse
from pynamodb.exceptions import PutError

from contacts.validation import whatsapp_phone
from messaging import business_numbers
from messaging.inbound.events import FieldChange
from messaging.inbound.health_events import event_key, named, phone_number_id, reported_at, text, to_alert
from messaging.whatsapp_table import WaAccountEvent
from wecare.alerts import Kind, raise_alert

log = logging.getLogger(__name__)

# account_update events that inform and ask nothing of anyone: recorded, not alerted.
INFORMATIONAL = frozenset(
    {
        "VOLUME_BASED_PRICING_TIER_UPDATE",
        "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE",
        "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE",
        "MM_LITE_TERMS_SIGNED",
        "AD_ACCOUNT_LINKED",
        "PARTNER_APP_INSTALLED",
    }
)


def apply_account_update(change: FieldChange) -> str:
    event = (text(change.value.get("event")) or "").upper()
    if not event:
        log.warning("account_update without an event", extra={"value": change.value})
        return "malformed"
    waba = change.waba_id or "unknown"
    summary = f"WhatsApp Business Account {waba}: {event.lower().replace('_', ' ')}{_details(change)}."
    outcome = _record(change, event, None, summary)
    subject = f"{waba} {event}"
    if event not in INFORMATIONAL and to_alert(outcome, Kind.ACCOUNT_UPDATE, subject, reported_at(change)):
        raise_alert(Kind.ACCOUNT_UPDATE, subject, summary, link=reverse("business_numbers:list"))
    return outcome


def apply_name_update(change: FieldChange) -> str:
    value = change.value
    decision = (text(value.get("decision")) or "").upper()
    if not decision:
        log.warning("phone_number_name_update without a decision", extra={"value": value})
        return "malformed"
    phone = phone_number_id(change)
    who = phone or whatsapp_phone(text(value.get("display_phone_number"))) or "unknown"
    name = text(value.get("requested_verified_name")) or "?"
    reason = text(value.get("rejection_reason"))
    number = named(who)
    summary = f"WhatsApp's decision on the display name {name!r} of {number}: {decision.lower()}"
    summary += f" ({reason})" if reason and decision != "APPROVED" else ""
    outcome = _record(change, decision, phone, summary + ".")
    subject = f"{number} {decision}"
    if to_alert(outcome, Kind.NUMBER_NAME, subject, reported_at(change)):
        raise_alert(Kind.NUMBER_NAME, subject, summary + ".", link=reverse("business_numbers:list"))
    # On a duplicate too: a worker that died after the write still refreshes on the retry.
    try:
        business_numbers.refresh_from_aws()
    except Exception:
        # The hourly refresh catches up; the decision itself is recorded and alerted.
        log.exception("business numbers not refreshed after a name decision", extra={"phone_number_id": who})
    return outcome


def _record(change: FieldChange, event: str, phone: str | None, summary: str) -> str:
    item = WaAccountEvent(
        pk=WaAccountEvent.key(event_key(change)),
        changeField=change.field,
        event=event,
        wabaMetaId=change.waba_id,
        phoneNumberId=phone,
        summary=summary,
        payload=json.dumps(change.value, sort_keys=True, default=str),
        receivedAt=reported_at(change),
    )
    try:
        item.save(condition=WaAccountEvent.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return "duplicate"
        raise
    log.info("account event recorded", extra={"field": change.field, "event": event, "summary": summary})
    return "recorded"


def _details(change: FieldChange) -> str:
    """What the event says beyond its name, in a few words: the restriction, violation or ban."""
    value = change.value
    parts: list[str] = []
    restrictions = value.get("restriction_info")
    for restriction in restrictions if isinstance(restrictions, list) else []:  # a list in Meta's shape
        if isinstance(restriction, dict) and text(restriction.get("restriction_type")):
            parts.append(str(restriction["restriction_type"]))
    for key, inner in (("violation_info", "violation_type"), ("ban_info", "waba_ban_state")):
        block = value.get(key)
        if isinstance(block, dict) and text(block.get(inner)):
            parts.append(str(block[inner]))
    return f" ({', '.join(parts)})" if parts else ""
