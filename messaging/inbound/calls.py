"""WhatsApp voice calls from the webhook's ``calls`` field (Meta's Calling API, forwarded by EUM):
``connect`` and ``terminate`` events in ``value.calls``, and a business-initiated call's
``ringing`` / ``accepted`` / ``rejected`` in ``value.statuses`` (type ``call``). Each event is
applied to the call's ``VoiceCall`` item exactly once and in any order: the item records which
events it has seen, and each write is conditional on its own event not being among them.
docs/design/calls.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contacts.validation import WhatsAppIdentity, whatsapp_phone, whatsapp_user_id
from messaging import conversations
from messaging.inbound.contacts import find_or_create
from messaging.inbound.events import Business, FieldChange, MalformedEvent, change_business, read_profiles
from messaging.models import CALL_RETENTION_DAYS, CALLS_FEED, VoiceCall
from wecare.dynamo import now, update_if

log = logging.getLogger(__name__)

DIRECTIONS = {"USER_INITIATED": "inbound", "BUSINESS_INITIATED": "outbound"}
# How far each status has got. A status may replace only a lower one, so a late "ringing" never
# undoes "accepted"; the end of the call (terminate) outranks the others and is final, except
# "rejected": the customer refused the call, and Meta sends a terminate for that call too (in
# either order), whose status must not hide the refusal.
RANKS = {"ringing": 1, "accepted": 2, "completed": 4, "failed": 4, "rejected": 5}
MAX_STATUS = 20  # a status Meta adds is kept as its own lower-case word, cut to this
MAX_ID = 200


@dataclass(frozen=True)
class CallEvent:
    """One event about one call, read from the change."""

    call_id: str
    name: str  # connect | terminate | status:<status>
    at: datetime
    direction: str | None
    customer: WhatsAppIdentity
    customer_name: str | None
    raw: dict[str, Any]
    value_errors: Any = None  # the change's own ``errors``, beside its calls


def apply(change: FieldChange) -> str:
    """Record every call event of the change; the change's outcome in one word: "recorded" if any
    event was new, "duplicate" if all were applied before, else "malformed" if one could not be
    read, else "ignored" (nothing about a call in it)."""
    try:
        business = change_business(change)
    except MalformedEvent as exc:
        log.warning("call change names no business number", extra={"error": str(exc), "waba_id": change.waba_id})
        return "malformed"
    events, unreadable = _events(change.value, business)
    outcomes = {_record(event, business) for event in events}
    for outcome in ("recorded", "duplicate"):
        if outcome in outcomes:
            return outcome
    return "malformed" if unreadable else "ignored"


def _events(value: dict[str, Any], business: Business) -> tuple[list[CallEvent], int]:
    """(the change's call events, how many could not be read). One that cannot be read (no call
    id, an odd shape) is logged whole and left out, and its neighbours are still read; one that is
    not about a call's life (a message status, an event Meta adds) is left out quietly."""
    names = _profiles(value.get("contacts"))
    events, unreadable = [], 0
    for key, reader in (("calls", _call_event), ("statuses", _status_event)):
        items = value.get(key) or []
        for raw in items if isinstance(items, list) else [items]:
            try:
                event = reader(raw, business, names, value)
            except (MalformedEvent, TypeError, ValueError, AttributeError) as exc:
                log.warning("call event left out", extra={"reason": f"{type(exc).__name__}: {exc}", "item": raw})
                unreadable += 1
                continue
            if event is not None:
                events.append(event)
    return events, unreadable


def _call_event(raw: Any, business: Business, names: dict[str, str], value: dict[str, Any]) -> CallEvent | None:
    call_id = _call_id(raw)
    name = raw.get("event")
    if name not in ("connect", "terminate"):
        log.info("call event not recorded", extra={"call_id": call_id, "event": name})
        return None
    direction = DIRECTIONS.get(str(raw.get("direction") or "").upper())
    caller = whatsapp_phone(_text(raw.get("from")))
    if direction is None:
        # Meta's example of a customer's call has no direction: the caller says who began it.
        direction = "outbound" if caller and caller == business.display_phone else "inbound"
    side = "from" if direction == "inbound" else "to"
    phone = whatsapp_phone(_text(raw.get(side)))
    user_id = whatsapp_user_id(raw.get(f"{side}_user_id"))
    return CallEvent(
        call_id=call_id,
        name=name,
        at=_when(raw.get("timestamp")) or now(),
        direction=direction,
        customer=WhatsAppIdentity(phone=phone, user_id=user_id or names.get(f"user:{phone}")),
        customer_name=names.get(phone or user_id or ""),
        raw=raw,
        value_errors=value.get("errors"),
    )


def _status_event(raw: Any, business: Business, names: dict[str, str], value: dict[str, Any]) -> CallEvent | None:
    if raw.get("type") != "call":
        return None  # a message status on the calls field is not ours to read
    call_id = _call_id(raw)
    status = str(raw.get("status") or "").lower()[:MAX_STATUS]
    if not status:
        raise MalformedEvent("a call status without a status")
    phone = whatsapp_phone(_text(raw.get("recipient_id")))
    user_id = whatsapp_user_id(raw.get("recipient_user_id"))
    return CallEvent(
        call_id=call_id,
        name=f"status:{status}",
        at=_when(raw.get("timestamp")) or now(),
        direction="outbound",  # Meta sends call statuses for the business's own calls only
        customer=WhatsAppIdentity(phone=phone, user_id=user_id),
        customer_name=names.get(phone or user_id or ""),
        raw=raw,
    )


def _record(event: CallEvent, business: Business) -> str:
    """Apply one event to its call: "recorded", or "duplicate" when it was applied before."""
    seen = VoiceCall.seenEvents.does_not_exist() | ~VoiceCall.seenEvents.contains(event.name)
    actions = [VoiceCall.seenEvents.add({event.name}), *_common(event, business)]
    if event.name == "connect":
        # The connect's time is when the call was placed: it wins over a terminate's start time
        # that arrived first. Its status is only a start: an end already recorded stays.
        actions += [VoiceCall.startedAt.set(event.at), VoiceCall.status.set(VoiceCall.status | "ringing")]
    elif event.name == "terminate":
        status, ended = _terminate(event)
        actions += ended
        if update_if(
            VoiceCall(event.call_id),
            actions=[*actions, VoiceCall.status.set(status)],
            condition=seen & (VoiceCall.status.does_not_exist() | (VoiceCall.status != "rejected")),
        ):
            return "recorded"
        # Seen before, or the customer rejected the call: the end is recorded, "rejected" stays.
    else:
        status = event.name.split(":", 1)[1]
        actions.append(VoiceCall.startedAt.set(VoiceCall.startedAt | event.at))
        lower = [name for name, rank in RANKS.items() if rank < RANKS.get(status, 0)]
        # The status moves the call only past a lower one (a known status also sets a call that
        # has none yet: "ringing", the lowest, arriving first); either way the event is seen once.
        movable = VoiceCall.status.does_not_exist()
        if lower:
            movable = movable | VoiceCall.status.is_in(*lower)
        if status in RANKS and update_if(
            VoiceCall(event.call_id),
            actions=[*actions, VoiceCall.status.set(status)],
            condition=seen & movable,
        ):
            return "recorded"
    return "recorded" if update_if(VoiceCall(event.call_id), actions=actions, condition=seen) else "duplicate"


def _terminate(event: CallEvent) -> tuple[str, list]:
    """(the call's final status, the other changes the end makes)."""
    raw = event.raw
    # COMPLETED or FAILED in Meta's examples; a word Meta adds is kept as it is.
    status = str(raw.get("status") or "completed").lower()[:MAX_STATUS]
    ended = _when(raw.get("end_time")) or event.at
    actions = [
        VoiceCall.endedAt.set(ended),
        VoiceCall.startedAt.set(VoiceCall.startedAt | (_when(raw.get("start_time")) or ended)),
    ]
    duration = _seconds(raw.get("duration"))
    if duration is not None:
        actions.append(VoiceCall.durationSeconds.set(duration))
    # Errors on the call say why it failed; errors on the change beside it are kept only for a
    # call that failed (Meta's examples put them there even beside a completed one).
    errors = raw.get("errors") or (event.value_errors if status == "failed" else None)
    if isinstance(errors, (list, dict)) and errors:
        actions.append(VoiceCall.errors.set(errors))
    return status, actions


def _common(event: CallEvent, business: Business) -> list:
    """Who the call is with and where it is shown: the same from every event of the call, so
    whichever comes first writes them and the rest leave them as they are."""
    actions = [
        VoiceCall.phoneNumberId.set(VoiceCall.phoneNumberId | business.phone_number_id),
        VoiceCall.feed.set(VoiceCall.feed | CALLS_FEED),
        VoiceCall.expiresAt.set(VoiceCall.expiresAt | (now() + timedelta(days=CALL_RETENTION_DAYS))),
    ]
    if event.direction:
        actions.append(VoiceCall.direction.set(VoiceCall.direction | event.direction))
    customer = event.customer.phone or event.customer.user_id
    if customer:
        # A call from someone who never wrote still belongs to a contact (made as a message's
        # sender is, every opt-in false), and to the conversation their messages go to.
        contact, _created = find_or_create(event.customer, event.customer_name, wa_message_id=event.call_id)
        pk = conversations.key_for(business.suffix, conversations.identities(contact))
        actions += [
            VoiceCall.customer.set(VoiceCall.customer | customer),
            VoiceCall.contactId.set(VoiceCall.contactId | contact.contactId),
            VoiceCall.conversationPk.set(VoiceCall.conversationPk | pk),
        ]
    return actions


def _profiles(contacts: Any) -> dict[str, str]:
    """The change's ``contacts`` (read as a message's are, names cleaned the same way): profile
    names by number and user id, and "user:<number>" -> the user id WhatsApp gave beside a number."""
    found: dict[str, str] = {}
    for profile in read_profiles(contacts):
        phone = whatsapp_phone(profile.wa_id)
        for key in (phone, profile.user_id):
            if key and profile.name:
                found[key] = profile.name
        if phone and profile.user_id:
            found[f"user:{phone}"] = profile.user_id
    return found


def _call_id(raw: Any) -> str:
    call_id = raw.get("id")
    if not isinstance(call_id, str) or not call_id or len(call_id) > MAX_ID:
        raise MalformedEvent("a call event without a call id")
    return call_id


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and value != "" else None


def _when(value: Any) -> datetime | None:
    """Meta's epoch seconds (a string or a number); None when absent or unreadable."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _seconds(value: Any) -> int | None:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds < 10**7 else None
