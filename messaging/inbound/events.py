"""Parsing an AWS End User Messaging Social event into plain dataclasses.

The SNS ``Message`` is JSON with ``context`` (the WABA and phone-number ARNs) and
``whatsAppWebhookEntry``, itself a JSON *string* holding one Meta webhook ``entry``; each of its
``changes[].value`` may carry several ``messages`` and several ``statuses``. Nothing here talks
to AWS: ``parse`` either returns an ``Event`` or raises ``MalformedEvent`` (a permanent error:
retrying a body that is not JSON will never help).

Message types are a registry (type name -> reader); a type we do not know is kept as
``unsupported`` with its raw payload, never an exception, so a new Meta type cannot block the queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
    customer_wa_id: str  # Meta's wa_id: digits, no "+"
    customer_phone: str  # E.164
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
class Event:
    event_id: str | None  # EUM's messageId; real events may lack it
    messages: list[InboundMessage]
    statuses: list[StatusUpdate]
    skipped: list[str] = field(default_factory=list)  # why each unreadable message/status was left out


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
    return {"caption": caption, "filename": filename, "media_id": media.get("id"), "mime_type": media.get("mime_type"), "preview": preview}


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
        return {"text": title, "preview": title, "details": {"replyType": kind, "replyId": reply.get("id"), "description": reply.get("description")}}
    # Flows answer with nfm_reply (a JSON string of the form's fields): keep it whole.
    return {"preview": "Form reply" if kind == "nfm_reply" else "Interactive reply", "details": {"replyType": kind, "reply": reply}}


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
    count = sum(int(i.get("quantity") or 1) for i in items)
    return {"text": order.get("text"), "preview": f"Order: {count} item{'s' if count != 1 else ''}", "details": {"order": order}}


def _unsupported(msg: dict[str, Any]) -> dict[str, Any]:
    errors = msg.get("errors") or []
    title = (errors[0].get("title") if errors else None) or "Unsupported message"
    return {"preview": title, "details": {"errors": errors}}


READERS: dict[str, Reader] = {
    "text": _text,
    **{kind: _media for kind in MEDIA_TYPES},
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "order": _order,
    "unsupported": _unsupported,
}


# --- the event ------------------------------------------------------------------------------
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
    for change in changes:
        value = (change or {}).get("value") or {}
        business = _business(context, value.get("metadata") or {}, entry.get("id"))
        names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
        # One unreadable item must not cost its neighbours: it is reported and left out.
        for raw in value.get("messages") or []:
            try:
                messages.append(_message(raw, business, names))
            except (MalformedEvent, AttributeError, TypeError) as exc:
                skipped.append(f"message: {exc}")
        for raw in value.get("statuses") or []:
            try:
                statuses.append(_status(raw, business))
            except (MalformedEvent, AttributeError, TypeError) as exc:
                skipped.append(f"status: {exc}")
    return Event(event_id=event.get("messageId"), messages=messages, statuses=statuses, skipped=skipped)


def _business(context: dict[str, Any], metadata: dict[str, Any], entry_id: str | None) -> Business:
    """Which of our numbers: the context's phone ARN whose Meta id matches the change's metadata."""
    phones = context.get("MetaPhoneNumberIds") or []
    meta_id = metadata.get("phone_number_id")
    chosen = next((p for p in phones if p.get("metaPhoneNumberId") == meta_id), phones[0] if phones else None)
    arn = (chosen or {}).get("arn") or ""
    suffix = arn.rsplit("/", 1)[-1] if "/" in arn else ""
    if not suffix:
        raise MalformedEvent("context.MetaPhoneNumberIds names no phone-number ARN")
    wabas = context.get("MetaWabaIds") or []
    display = metadata.get("display_phone_number")
    return Business(
        phone_number_id=f"phone-number-id-{suffix}",
        suffix=suffix,
        waba_meta_id=(wabas[0].get("wabaId") if wabas else None) or entry_id,
        display_phone=_e164(display) if display else None,
    )


def _e164(wa_id: str) -> str:
    digits = "".join(ch for ch in str(wa_id) if ch.isdigit())
    return f"+{digits}"


def _when(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedEvent(f"timestamp {timestamp!r} is not epoch seconds") from None


def _message(raw: dict[str, Any], business: Business, names: dict[str, str | None]) -> InboundMessage:
    wamid, sender = raw.get("id"), raw.get("from")
    if not wamid or not sender:
        raise MalformedEvent("a message without id or from")
    kind = raw.get("type") or "unsupported"
    reader = READERS.get(kind)
    if reader is None:  # a type Meta added after this code was written: keep it, say so
        fields, kind = {"preview": f"Unsupported message ({kind})", "details": {"originalType": kind}}, "unsupported"
    else:
        fields = reader(raw)
    fields["preview"] = (fields.get("preview") or "")[:PREVIEW_LENGTH]
    return InboundMessage(
        wa_message_id=wamid,
        business=business,
        customer_wa_id=sender,
        customer_phone=_e164(sender),
        sender_name=names.get(sender),
        sent_at=_when(raw.get("timestamp")),
        type=kind,
        reply_to=(raw.get("context") or {}).get("id"),
        raw=raw,
        **fields,
    )


def _status(raw: dict[str, Any], business: Business) -> StatusUpdate:
    if not raw.get("id") or not raw.get("status"):
        raise MalformedEvent("a status without id or status")
    return StatusUpdate(
        wa_message_id=raw["id"],
        business=business,
        status=str(raw["status"]).lower(),
        at=_when(raw.get("timestamp")),
        recipient_wa_id=raw.get("recipient_id"),
        errors=list(raw.get("errors") or []),
        raw=raw,
    )
