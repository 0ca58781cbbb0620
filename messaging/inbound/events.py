"""Parsing an AWS End User Messaging Social event into plain dataclasses.

The SNS ``Message`` is JSON with ``context`` (the WABA and phone-number ARNs) and
``whatsAppWebhookEntry``, itself a JSON *string* holding one Meta webhook ``entry``; each of its
``changes[].value`` may carry several ``messages`` and several ``statuses``. Nothing here talks
to AWS: ``parse`` either returns an ``Event`` or raises ``MalformedEvent`` (a permanent error:
retrying a body that is not JSON will never help).

Each change, message and status is read on its own: one of the wrong shape (a string where an
object belongs, a quantity of "two") is left out and listed in ``Event.skipped`` for the log,
and the rest of the event is still processed. Only an event in which no change can be read at
all (no phone-number ARN to say which number it is about) is a ``MalformedEvent``.

Message types are a registry (type name -> reader); a type we do not know, or a message whose
parts a reader cannot read, is kept as ``unsupported`` with its raw payload, never an exception,
so a new Meta type cannot block the queue. Only a message with no id or no sender at all is left
out: it cannot be recorded once, nor put in anyone's conversation.

The sender is who WhatsApp says wrote (docs/design/inbound.md): the number in ``from`` (``wa_id``) as
given, without phone-number validity rules, and/or the business-scoped user id (``from_user_id``,
or ``user_id`` of the matching ``contacts`` entry) that Meta sends instead of a number for a
customer who uses a username.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contacts.validation import MAX_NAME, WhatsAppIdentity, visible_text, whatsapp_phone, whatsapp_user_id
from wecare.dynamo import now

PREVIEW_LENGTH = 100
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})


class MalformedEvent(ValueError):
    """The event cannot be read at all: logged and dropped, never retried."""


@dataclass(frozen=True)
class Business:
    """The business number an event is about."""

    phone_number_id: str  # originationPhoneNumberId: "phone-number-id-<suffix>"
    suffix: str  # the ARN's last part, used in CONV# keys
    waba_meta_id: str | None
    display_phone: str | None  # E.164


@dataclass(frozen=True)
class InboundMessage:
    wa_message_id: str
    business: Business
    sender: WhatsAppIdentity  # the number WhatsApp gave (E.164) and/or the business-scoped user id
    sender_name: str | None
    sent_at: datetime  # Meta's timestamp: when the customer sent it
    type: str  # one of READERS, or "unsupported"
    preview: str
    text: str | None = None  # body, or the title a button/list reply chose
    caption: str | None = None
    filename: str | None = None
    media_id: str | None = None
    mime_type: str | None = None
    reaction_emoji: str | None = None
    reaction_to: str | None = None  # the wamid reacted to
    reply_to: str | None = None  # context.id: the message this one answers
    details: dict[str, Any] = field(default_factory=dict)  # type-specific extras (location, reply id…)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def has_media(self) -> bool:
        return self.type in MEDIA_TYPES and bool(self.media_id)

    @property
    def customer(self) -> str:
        """Whom the conversation is with: the number, else the business-scoped user id."""
        return self.sender.phone or self.sender.user_id or ""


@dataclass(frozen=True)
class StatusUpdate:
    wa_message_id: str
    business: Business
    status: str  # sent | delivered | read | failed | deleted | warning | anything Meta adds
    at: datetime
    recipient_wa_id: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldChange:
    """A change about something other than messages and their statuses: the account's health
    (``message_template_status_update``, ``phone_number_quality_update``, ``account_update``…) or
    a call (``calls``). Kept raw here; the module registered for its field reads it
    (``messaging.inbound.fields``)."""

    field: str
    value: dict[str, Any]
    waba_id: str | None  # the entry's id: the WhatsApp Business Account the change is about
    context: dict[str, Any]  # EUM's context (the WABA and phone-number ARNs), as given
    time: int | None = None  # the entry's ``time``: when Meta sent it (epoch seconds), if given


@dataclass(frozen=True)
class Event:
    event_id: str | None  # EUM's messageId; real events may lack it
    messages: list[InboundMessage]
    statuses: list[StatusUpdate]
    skipped: list[str] = field(default_factory=list)  # why each unreadable message/status was left out
    field_changes: list[FieldChange] = field(default_factory=list)


# --- one reader per message type ----------------------------------------------------------------
# Each takes Meta's message object and returns the fields that differ by type.
Reader = Callable[[dict[str, Any]], dict[str, Any]]
MEDIA_LABELS = {"image": "Photo", "video": "Video", "audio": "Audio", "document": "Document", "sticker": "Sticker"}


def _text(msg: dict[str, Any]) -> dict[str, Any]:
    body = (msg.get("text") or {}).get("body") or ""
    return {"text": body, "preview": body}


def _media(msg: dict[str, Any]) -> dict[str, Any]:
    kind = msg["type"]
    media = msg.get(kind) or {}
    caption, filename = media.get("caption"), media.get("filename")
    label = "Voice message" if kind == "audio" and media.get("voice") else MEDIA_LABELS[kind]
    preview = ": ".join(part for part in (label, filename, caption) if part)
    return {
        "caption": caption,
        "filename": filename,
        "media_id": media.get("id"),
        "mime_type": media.get("mime_type"),
        "preview": preview,
    }


def _location(msg: dict[str, Any]) -> dict[str, Any]:
    place = msg.get("location") or {}
    where = ", ".join(str(p) for p in (place.get("name"), place.get("address")) if p)
    if not where and "latitude" in place:
        where = f"{place.get('latitude')}, {place.get('longitude')}"
    return {"preview": f"Location: {where}" if where else "Location", "details": {"location": place}}


def _contacts(msg: dict[str, Any]) -> dict[str, Any]:
    cards = msg.get("contacts") or []
    names = [((c.get("name") or {}).get("formatted_name") or "?") for c in cards]
    return {"preview": "Contact card: " + ", ".join(names) if names else "Contact card", "details": {"contacts": cards}}


def _interactive(msg: dict[str, Any]) -> dict[str, Any]:
    block = msg.get("interactive") or {}
    kind = block.get("type") or ""
    reply = block.get(kind) or {}
    if kind in ("button_reply", "list_reply"):
        title = reply.get("title") or ""
        return {
            "text": title,
            "preview": title,
            "details": {"replyType": kind, "replyId": reply.get("id"), "description": reply.get("description")},
        }
    # Flows answer with nfm_reply (a JSON string of the form's fields): keep it whole.
    return {
        "preview": "Form reply" if kind == "nfm_reply" else "Interactive reply",
        "details": {"replyType": kind, "reply": reply},
    }


def _button(msg: dict[str, Any]) -> dict[str, Any]:
    button = msg.get("button") or {}  # a template's quick-reply button
    text = button.get("text") or ""
    return {"text": text, "preview": text, "details": {"payload": button.get("payload")}}


def _reaction(msg: dict[str, Any]) -> dict[str, Any]:
    reaction = msg.get("reaction") or {}
    emoji = reaction.get("emoji") or ""  # empty: the customer removed their reaction
    return {
        "reaction_emoji": emoji,
        "reaction_to": reaction.get("message_id"),
        "preview": f"Reacted {emoji}" if emoji else "Removed a reaction",
    }


def _order(msg: dict[str, Any]) -> dict[str, Any]:
    order = msg.get("order") or {}
    items = order.get("product_items") or []
    quantities = [_quantity(i) for i in items] if isinstance(items, list) else [None]
    # A quantity we cannot read must not cost the customer's order: it is kept whole in
    # details, and only the preview is vaguer.
    known = [q for q in quantities if q is not None]
    if len(known) < len(quantities):
        return {"text": order.get("text"), "preview": "Order", "details": {"order": order}}
    count = sum(known)
    return {
        "text": order.get("text"),
        "preview": f"Order: {count} item{'s' if count != 1 else ''}",
        "details": {"order": order},
    }


def _quantity(item: Any) -> int | None:
    """A product line's quantity (absent means 1), or None when it is not a whole number."""
    if not isinstance(item, dict):
        return None
    raw = item.get("quantity")
    if raw is None or raw == "":
        return 1
    try:
        return int(str(raw))
    except ValueError:
        return None


def _unsupported(msg: dict[str, Any]) -> dict[str, Any]:
    errors = _errors(msg.get("errors"))
    title = (errors[0].get("title") if errors else None) or "Unsupported message"
    return {"preview": title, "details": {"errors": errors}}


def _system(msg: dict[str, Any]) -> dict[str, Any]:
    system = msg.get("system") or {}  # e.g. the customer changed their number
    body = system.get("body") or "System message"
    return {"text": body, "preview": body, "details": {"system": system}}


READERS: dict[str, Reader] = {
    "text": _text,
    **dict.fromkeys(MEDIA_TYPES, _media),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "system": _system,
    "unsupported": _unsupported,
}


# --- the event ------------------------------------------------------------------------------
# What reading one change, message or status may raise on a body of the wrong shape (a string
# where a dict belongs, a word where a number belongs…). Caught per item: that item is left out
# and reported, its neighbours are still processed. Anything else is a bug and propagates.
UNREADABLE = (MalformedEvent, ValueError, TypeError, AttributeError, KeyError)
LEFT_OUT_ITEM_CHARS = 1000


def parse(body: str | bytes) -> Event:
    try:
        event = json.loads(body)
        entry = event["whatsAppWebhookEntry"]
        entry = json.loads(entry) if isinstance(entry, (str, bytes)) else entry
        context = event.get("context") or {}
        changes = entry.get("changes") or []
        if not isinstance(changes, list):
            raise TypeError("changes is not a list")
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise MalformedEvent(f"not an EUM WhatsApp event: {exc}") from None
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    skipped: list[str] = []
    field_changes: list[FieldChange] = []
    readable_changes = 0
    for change in changes:
        other = _field_change(change, context, entry.get("id"), entry.get("time"))
        if other is not None:
            field_changes.append(other)
            readable_changes += 1
            continue
        # One unreadable item must not cost its neighbours: it is reported and left out.
        try:
            value, business = _change(change, context, entry.get("id"))
        except UNREADABLE as exc:
            skipped.append(_left_out("change", change, exc))
            continue
        readable_changes += 1
        profiles = read_profiles(value.get("contacts"))
        for raw in _items(value, "messages", skipped):
            try:
                messages.append(_message(raw, business, profiles))
            except UNREADABLE as exc:
                skipped.append(_left_out("message", raw, exc))
        for raw in _items(value, "statuses", skipped):
            try:
                statuses.append(_status(raw, business))
            except UNREADABLE as exc:
                skipped.append(_left_out("status", raw, exc))
    if changes and not readable_changes:
        # Not one change says which of our numbers it is about: nothing in it can be recorded,
        # and retrying the same bytes will not change that.
        raise MalformedEvent("no readable change in the event: " + "; ".join(skipped))
    return Event(
        event_id=event.get("messageId"),
        messages=messages,
        statuses=statuses,
        skipped=skipped,
        field_changes=field_changes,
    )


def _field_change(change: Any, context: Any, entry_id: Any, entry_time: Any = None) -> FieldChange | None:
    """The change as a FieldChange when its field is not ``messages`` (None when it is, or when
    it names no field: such changes are read as messages, as EUM's own examples are)."""
    if not isinstance(change, dict):
        return None
    name = change.get("field")
    value = change.get("value")
    if not isinstance(name, str) or name == "messages" or not isinstance(value, dict):
        return None
    return FieldChange(
        field=name,
        value=value,
        waba_id=str(entry_id) if entry_id is not None else None,
        context=context if isinstance(context, dict) else {},
        time=_epoch(entry_time),
    )


def change_business(change: FieldChange) -> Business:
    """The business number a field change is about (its metadata's phone number among the
    context's ARNs); MalformedEvent when the context names none."""
    metadata = change.value.get("metadata")
    return _business(change.context, metadata if isinstance(metadata, dict) else {}, change.waba_id)


def _epoch(value: Any) -> int | None:
    """Whole epoch seconds, or None when ``value`` is not one (a change is still read without it)."""
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _left_out(kind: str, raw: Any, exc: Exception) -> str:
    """Why an item was left out, with the item itself (cut short) so the log line alone is
    enough for a person to see what the customer sent."""
    item = json.dumps(raw, default=str, ensure_ascii=False)
    cut = item if len(item) <= LEFT_OUT_ITEM_CHARS else item[:LEFT_OUT_ITEM_CHARS] + "…"
    return f"{kind}: {type(exc).__name__}: {exc} in {cut}"


def _change(change: Any, context: Any, entry_id: Any) -> tuple[dict[str, Any], Business]:
    """A change's ``value`` and the business number it is about."""
    value = change.get("value") or {}
    if not isinstance(value, dict):
        raise TypeError(f"change value is a {type(value).__name__}, not an object")
    return value, _business(context, value.get("metadata") or {}, entry_id)


@dataclass(frozen=True)
class Profile:
    """A ``contacts`` entry of a change: the profile name and the sender's identifiers."""

    name: str | None
    wa_id: str | None
    user_id: str | None


def read_profiles(contacts: Any) -> list[Profile]:
    """The change's contacts (a message's or a call's). A sender's name is a nicety: an unreadable
    entry is just left out."""
    profiles = []
    for contact in contacts if isinstance(contacts, list) else []:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        wa_id = contact.get("wa_id")
        # The customer chose this name: it is shown in the inbox, so it loses what could spoof it
        # (bidi overrides, invisible characters) and what DynamoDB cannot store (lone surrogates).
        name = (visible_text(name)[:MAX_NAME] or None) if isinstance(name, str) else None
        profiles.append(Profile(name, str(wa_id) if wa_id else None, whatsapp_user_id(contact.get("user_id"))))
    return profiles


def _sender(raw: dict[str, Any], profiles: list[Profile]) -> tuple[WhatsAppIdentity, str | None]:
    """(who sent ``raw``, their profile name). The message names its sender by ``from`` and/or
    ``from_user_id``; the contacts entry with the same wa_id or user id fills in what the message
    leaves out, and a message that names no sender is from the change's only contacts entry."""
    named_by = raw.get("from"), raw.get("from_user_id")
    phone = whatsapp_phone(named_by[0]) if isinstance(named_by[0], (str, int)) else None
    user_id = whatsapp_user_id(named_by[1])
    matching = [
        p for p in profiles if (phone and whatsapp_phone(p.wa_id) == phone) or (user_id and p.user_id == user_id)
    ]
    names_nobody = not any(named_by)  # empty or absent, as in Meta's username payloads
    profile = matching[0] if matching else (profiles[0] if len(profiles) == 1 and names_nobody else None)
    if profile is not None:
        phone = phone or whatsapp_phone(profile.wa_id)
        user_id = user_id or profile.user_id
    return WhatsAppIdentity(phone=phone, user_id=user_id), (profile.name if profile else None)


def _items(value: dict[str, Any], key: str, skipped: list[str]) -> list[Any]:
    items = value.get(key) or []
    if not isinstance(items, list):
        skipped.append(f"{key}: a {type(items).__name__}, not a list")
        return []
    return items


def _business(context: dict[str, Any], metadata: dict[str, Any], entry_id: str | None) -> Business:
    """Which of our numbers: the context's phone ARN whose Meta id matches the change's metadata."""
    phones = [p for p in context.get("MetaPhoneNumberIds") or [] if isinstance(p, dict)]
    meta_id = metadata.get("phone_number_id")
    chosen = next((p for p in phones if p.get("metaPhoneNumberId") == meta_id), phones[0] if phones else None)
    arn = (chosen or {}).get("arn") or ""
    suffix = arn.rsplit("/", 1)[-1] if "/" in arn else ""
    if not suffix:
        raise MalformedEvent("context.MetaPhoneNumberIds names no phone-number ARN")
    wabas = [w for w in context.get("MetaWabaIds") or [] if isinstance(w, dict)]
    display = metadata.get("display_phone_number")
    return Business(
        phone_number_id=f"phone-number-id-{suffix}",
        suffix=suffix,
        waba_meta_id=(wabas[0].get("wabaId") if wabas else None) or entry_id,
        display_phone=whatsapp_phone(display),
    )


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedEvent(f"timestamp {timestamp!r} is not epoch seconds") from None


def _message(raw: dict[str, Any], business: Business, profiles: list[Profile]) -> InboundMessage:
    wamid = raw.get("id")
    sender, name = _sender(raw, profiles)
    if not wamid or not isinstance(wamid, (str, int)):
        raise MalformedEvent("a message without an id")
    if not sender:
        raise MalformedEvent("a message with neither a sender number (from) nor a user_id")
    kind = raw.get("type") or "unsupported"
    reader = READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:  # a type Meta added after this code was written: keep it, say so
        fields, kind = {"preview": f"Unsupported message ({kind})", "details": {"originalType": kind}}, "unsupported"
    else:
        try:
            fields = reader(raw)
        except UNREADABLE as exc:
            # Parts of the wrong shape: the message is still the customer's, kept whole and shown
            # as unsupported rather than lost.
            fields, kind = (
                {
                    "preview": f"Unsupported message ({kind}: unreadable)",
                    "details": {"originalType": kind, "unreadable": f"{type(exc).__name__}: {exc}"},
                },
                "unsupported",
            )
    fields["preview"] = str(fields.get("preview") or "")[:PREVIEW_LENGTH]
    context = raw.get("context")
    reply_to = context.get("id") if isinstance(context, dict) else None
    return InboundMessage(
        wa_message_id=str(wamid),
        business=business,
        sender=sender,
        sender_name=name,
        sent_at=_sent_at(raw.get("timestamp")),
        type=kind,
        reply_to=reply_to if isinstance(reply_to, str) else None,
        raw=raw,
        **_as_text(fields),
    )


def _sent_at(timestamp: Any) -> datetime:
    """When the customer sent it; a timestamp we cannot read costs the message nothing: it is
    taken as now, when we got it (the raw payload keeps what Meta wrote)."""
    try:
        return _when(timestamp)
    except MalformedEvent:
        return now()


TEXT_FIELDS = ("text", "caption", "filename", "media_id", "mime_type", "reaction_emoji", "reaction_to")


def _as_text(fields: dict[str, Any]) -> dict[str, Any]:
    """A reader's string fields as strings (or None) whatever JSON type Meta's parts had, so an
    odd value never fails the write that records the message."""
    return {k: (v if v is None or isinstance(v, str) else str(v)) if k in TEXT_FIELDS else v for k, v in fields.items()}


def _status(raw: dict[str, Any], business: Business) -> StatusUpdate:
    if not raw.get("id") or not raw.get("status"):
        raise MalformedEvent("a status without id or status")
    return StatusUpdate(
        wa_message_id=raw["id"],
        business=business,
        status=str(raw["status"]).lower(),
        at=_when(raw.get("timestamp")),
        recipient_wa_id=raw.get("recipient_id"),
        errors=_errors(raw.get("errors")),
        raw=raw,
    )


def _errors(errors: Any) -> list[dict[str, Any]]:
    """Meta's errors on a status, as a list of objects. A status whose errors are oddly shaped
    is still a status (a ``failed`` must not be lost over it); the odd parts are left out."""
    if isinstance(errors, dict):
        errors = [errors]
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
