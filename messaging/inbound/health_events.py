"""What every account-health change has in common, read off a ``FieldChange``: the key that makes
a second delivery of the same event a no-op, when Meta sent it, and which of our numbers it is
about. The design: docs/design/account-health.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.exceptions import PutError

from contacts.validation import whatsapp_phone
from messaging import business_numbers
from messaging.channels import Channel
from messaging.inbound.events import FieldChange
from messaging.whatsapp_table import WaPhoneQuality, WaTemplate
from wecare import alerts, alerts_queries
from wecare.dynamo import now

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50  # events kept on an item; older ones drop off the front
# A value kept from Meta (a reason, a sentence, a word), cut: each event's are kept in the item's
# history, and a few long ones must not take the item past DynamoDB's 400 KB item size.
MAX_TEXT = 1000
Item = TypeVar("Item", WaTemplate, WaPhoneQuality)


def event_key(change: FieldChange) -> str:
    """The same for every delivery of one event, different for two events: the field, the WABA,
    Meta's send time and the value, hashed (Meta gives these events no id of their own)."""
    canonical = json.dumps(
        [change.field, change.waba_id, change.time, change.value], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def reported_at(change: FieldChange) -> str:
    """When Meta sent the change (ISO, UTC); now when the entry had no readable time (none, or
    one past the calendar: raising here would retry and park the whole event for one field)."""
    try:
        at = datetime.fromtimestamp(change.time, tz=UTC) if change.time is not None else now()
    except (ValueError, OverflowError, OSError):
        at = now()
    return at.isoformat()


def text(value: Any) -> str | None:
    """A value Meta sent as a string (or number), trimmed and cut to MAX_TEXT; None when absent or empty."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value).strip()[:MAX_TEXT] or None


def named(who: str) -> str:
    """The number as every page names it (its display name and phone), never by its id, for an
    alert's subject and summary; ``who`` is our id, a phone, or "unknown"."""
    return business_numbers.label(who) if who != "unknown" else "an unknown number"


def phone_number_id(change: FieldChange) -> str | None:
    """Our id (``phone-number-id-<suffix>``) of the number a change names by its display number.

    The change names the number only by ``display_phone_number``; EUM's context lists the ARNs of
    the WABA's numbers. With one number that is it; with several, the allowlisted WhatsApp number
    with that phone (messaging.business_numbers) is."""
    phones = [p for p in change.context.get("MetaPhoneNumberIds") or [] if isinstance(p, dict) and p.get("arn")]
    if len(phones) == 1:
        return "phone-number-id-" + str(phones[0]["arn"]).rsplit("/", 1)[-1]
    display = whatsapp_phone(text(change.value.get("display_phone_number")))
    if display:
        for number in business_numbers.allowlisted():
            if number.channel == Channel.WHATSAPP and number.phone == display:
                return number.sender
    log.warning(
        "account health change names a number we cannot place",
        extra={"field": change.field, "display_phone_number": change.value.get("display_phone_number")},
    )
    return None


def eum_waba_id(change: FieldChange) -> str | None:
    """The WABA's id in AWS (``waba-<suffix>``, as the template sync keys items), from the context."""
    wabas = [w for w in change.context.get("MetaWabaIds") or [] if isinstance(w, dict) and w.get("arn")]
    return ("waba-" + str(wabas[0]["arn"]).rsplit("/", 1)[-1]) if wabas else None


def appended(history: list[Any] | None, entry: dict[str, Any]) -> list[Any]:
    """``history`` with ``entry`` added in time order, bounded to HISTORY_LIMIT (oldest dropped)."""
    items = [*(history or []), entry]
    items.sort(key=lambda e: str(e.get("at") or ""))
    return items[-HISTORY_LIMIT:]


def to_alert(outcome: str, kind: str, subject: str, reported: str) -> bool:
    """Whether an event that asks for an alert raises it now: the delivery that recorded it does;
    a duplicate does only when no alert of this kind and subject was seen since Meta sent the
    event (the worker that recorded it died before raising: the task's retry raises it). A true
    redelivery finds that alert and raises nothing, so it counts no repeat that did not happen."""
    if outcome == "recorded":
        return True
    try:
        alert = alerts_queries.current(kind, subject[: alerts.MAX_SUBJECT])
    except Exception:  # an alert must never fail the event's own work; the next delivery asks again
        log.exception("alert state not read", extra={"kind": kind, "subject": subject})
        return False
    return alert is None or alert.lastSeen < datetime.fromisoformat(reported)


def seen(history: list[Any] | None, key: str) -> bool:
    return any(isinstance(e, dict) and e.get("key") == key for e in history or [])


# Writers racing on one item (events of one template on several workers, the template sync):
# each lost race re-reads after a short random pause, so a crowd of writers spreads out instead of
# colliding again at once; every round one of them wins, so the attempts exceed the crowd.
MAX_ATTEMPTS = 10
RETRY_PAUSE_SECONDS = 0.01


def record_once(
    find: Callable[[], Item | None],
    create: Callable[[], Item],
    entry: dict[str, Any],
    change_item: Callable[[Item], None],
    *,
    history: str,
) -> tuple[str, Item]:
    """Add ``entry`` to the item's ``history`` list and apply ``change_item``, once: "recorded",
    or "duplicate" when this event (its ``key``) is in the history already. A read, then a write
    conditional on the version read (``healthVersion``), so a concurrent writer makes this one
    read again rather than lose either change."""
    for attempt in range(MAX_ATTEMPTS):
        found = find()
        item = found if found is not None else create()
        if seen(getattr(item, history), entry["key"]):
            return "duplicate", item
        model = type(item)
        version = item.healthVersion
        change_item(item)
        setattr(item, history, appended(getattr(item, history), entry))
        item.healthVersion = int(version or 0) + 1
        condition: Any
        if found is None:
            condition = model.pk.does_not_exist()
        elif version is None:
            condition = model.healthVersion.does_not_exist()
        else:
            condition = model.healthVersion == version
        try:
            item.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * (attempt + 1)))
                continue  # written meanwhile: read again
            raise
        return "recorded", item
    raise RuntimeError(f"{entry.get('kind')} item kept changing under {MAX_ATTEMPTS} attempts to record an event")
