"""WhatsApp templates: synced from AWS End User Messaging Social into TEMPLATE_EUM items, checked
before a template send (approved, and given exactly the parameters it has: text values, and the
file of an image, video or document header, docs/design/media.md), and rendered with their values
as the customer reads them (threads, history, the Templates page, the composer, the bulk preview:
docs/design/composer.md)."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery import shared_task
from pynamodb.exceptions import PutError

from messaging.outbound import media
from messaging.outbound.senders.whatsapp import media_type
from messaging.whatsapp_table import WaTemplate
from wecare.aws import client
from wecare.dynamo import now
from wecare.errors import FieldErrors

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# Header formats whose one parameter is a file, and the kind of file each takes (as sent).
MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
# The longest value a template takes: WhatsApp allows a template's body 1,024 characters with its
# values filled in and a link button's URL 2,000, so a longer value can never be sent. Bounding it
# here (where every composer, the API and bulk check) also keeps the message's record within
# DynamoDB's item size: an oversized value is the person's mistake (422), not a server error.
MAX_VALUE_CHARS = 1024
# WhatsApp refuses a text value holding a line break, a tab or more than four spaces in a row
# (error 132018): said before the send, not learnt from a failed one.
UNSENDABLE_VALUE = re.compile(r"[\n\r\t]| {5,}")
MAX_BUTTON_VALUE_CHARS = 2000


def approved_templates() -> list[WaTemplate]:
    items = WaTemplate.item_type_index.query("TEMPLATE_EUM", filter_condition=WaTemplate.templateStatus == "APPROVED")
    return sorted(
        (t for t in items if isinstance(t, WaTemplate)), key=lambda t: (t.templateName, t.templateLanguage or "")
    )


def unusable_templates() -> list[WaTemplate]:
    """Templates WhatsApp does not let us send now (pending, rejected, paused, disabled…), most
    recently changed first, for the Templates page to say why."""
    items = WaTemplate.item_type_index.query("TEMPLATE_EUM", filter_condition=WaTemplate.templateStatus != "APPROVED")
    found = [t for t in items if isinstance(t, WaTemplate)]
    return sorted(found, key=lambda t: t.statusChangedAt or t.syncedAt or "", reverse=True)


def find(name: str, language: str) -> WaTemplate | None:
    items = WaTemplate.item_type_index.query(
        "TEMPLATE_EUM", filter_condition=(WaTemplate.templateName == name) & (WaTemplate.templateLanguage == language)
    )
    return next((t for t in items if isinstance(t, WaTemplate)), None)


def phone_only(template: dict[str, Any] | None) -> bool:
    """Whether WhatsApp delivers this template only to a phone number: Meta refuses
    authentication templates to a business-scoped user id (error 131062, docs/design/inbound.md)."""
    if not template or not template.get("name") or not template.get("language"):
        return False
    found = find(str(template["name"]), str(template["language"]))
    return bool(found and (found.templateCategory or "").upper() == "AUTHENTICATION")


def expected_parameters(template: WaTemplate) -> dict[str, Any]:
    """How many values each part of the template takes: {"header": n, "body": n, "buttons": [n, …]},
    and "headerMedia": the kind of file its header takes ("image", "video", "document") or None."""
    expected: dict[str, Any] = {"header": 0, "body": 0, "buttons": [], "headerMedia": None}
    for component in template.components or []:
        kind = str(component.get("type", "")).upper()
        if kind == "BODY":
            expected["body"] = len(set(PLACEHOLDER.findall(component.get("text", ""))))
        elif kind == "HEADER" and str(component.get("format", "TEXT")).upper() == "TEXT":
            expected["header"] = len(set(PLACEHOLDER.findall(component.get("text", ""))))
        elif kind == "HEADER":
            expected["headerMedia"] = MEDIA_HEADERS.get(str(component.get("format", "")).upper())
        elif kind == "BUTTONS":
            for button in component.get("buttons", []):
                expected["buttons"].append(len(set(PLACEHOLDER.findall(button.get("url", "") or ""))))
    return expected


def validate(name: str, language: str, parameters: dict[str, Any], *, file_to_upload: bool = False) -> WaTemplate:
    """The approved template, if the parameters fit it; FieldErrors saying, as a person would,
    what does not (the keys stay the machine-readable field paths the API documents).
    ``file_to_upload``: the header's file is one the caller will store at its freshly issued key
    once the gate allows (not recorded yet), or, when none is named yet, one still to be chosen."""
    template = find(name, language)
    if template is None:
        raise FieldErrors(
            {"template": f"There is no template called {name} in {language}. Sync the templates or pick another."}
        )
    if template.templateStatus != "APPROVED":
        state = STATUS_WORDS.get(str(template.templateStatus), f"is {str(template.templateStatus).lower()}")
        raise FieldErrors({"template": f"The template {name} {state}; only approved templates can be sent."})
    expected = expected_parameters(template)
    errors = {}
    for part, where in (("header", "This template's header"), ("body", "This template")):
        given = parameters.get(part) or []
        if len(given) != expected[part]:
            errors[f"template.parameters.{part}"] = f"{where} needs {_values(expected[part])}; you gave {_gave(given)}."
        elif empty := [str(i) for i, v in enumerate(given, 1) if not isinstance(v, str) or not v.strip()]:
            errors[f"template.parameters.{part}"] = f"Fill in every value: {_numbered(empty)} empty."
        elif long := [str(i) for i, v in enumerate(given, 1) if len(v) > MAX_VALUE_CHARS]:
            errors[f"template.parameters.{part}"] = (
                f"Shorten the values: {_numbered(long)} longer than {MAX_VALUE_CHARS:,} characters."
            )
        elif broken := [str(i) for i, v in enumerate(given, 1) if UNSENDABLE_VALUE.search(v)]:
            errors[f"template.parameters.{part}"] = (
                "WhatsApp takes each value on one line, without tabs or more than four spaces in a row:"
                f" {_numbered(broken)} not."
            )
    buttons = parameters.get("buttons") or []
    wanted = list(expected["buttons"])
    if [len(b or []) for b in buttons] + [0] * (len(wanted) - len(buttons)) != wanted:
        given_count = sum(len(b or []) for b in buttons)
        errors["template.parameters.buttons"] = (
            f"This template's link buttons need {_values(sum(wanted))} (one for each link that ends in a value);"
            f" you gave {given_count or 'none'}."
        )
    elif any(len(str(v)) > MAX_BUTTON_VALUE_CHARS for b in buttons for v in (b or [])):
        errors["template.parameters.buttons"] = (
            f"Shorten the link buttons' values: each takes at most {MAX_BUTTON_VALUE_CHARS:,} characters."
        )
    if problem := _header_media_error(expected["headerMedia"], parameters.get("headerMedia"), file_to_upload):
        errors["template.parameters.headerMedia"] = problem
    if errors:
        raise FieldErrors(errors)
    return template


# What a template's review status means, for a sentence about one that cannot be sent.
STATUS_WORDS = {
    "PENDING": "is still waiting for WhatsApp's review",
    "IN_APPEAL": "is waiting for WhatsApp's answer to an appeal",
    "REJECTED": "was rejected by WhatsApp",
    "PAUSED": "is paused by WhatsApp (customers reported or ignored it)",
    "DISABLED": "is disabled by WhatsApp",
}


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values" if count else "no values"


def _gave(given: list[Any]) -> str:
    return "none" if not given else str(len(given))


def _numbered(slots: list[str]) -> str:
    return f"value {slots[0]} is" if len(slots) == 1 else f"values {', '.join(slots)} are"


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _header_media_error(wanted: str | None, given: Any, file_to_upload: bool) -> str | None:
    """Why ``given`` is not the file the template's header takes, or None."""
    if wanted is None:
        return "This template's header takes no file; remove the file." if given else None
    if given is None and file_to_upload:
        return None
    if not isinstance(given, dict) or not given.get("s3Key") or not given.get("contentType"):
        return f"This template's header needs {_article(wanted)} file (the uploaded file's s3Key and contentType)."
    if not file_to_upload and (refusal := media.reference_error(given)):
        return refusal
    if media_type(str(given["contentType"])) != wanted:
        return f"This template's header needs {_article(wanted)} file, not a {given['contentType']} file."
    return None


# Rendering: the template's text with its values, as the customer reads it.

# A value that was not given, where the customer would read it: plain to see, never blank.
MISSING = "[value {n} missing]"
# Templates are looked up once a few minutes per process when a sent message is recorded (a bulk
# campaign records thousands): an approved template's text does not change without a new review,
# and a sync empties the cache.
CACHE_SECONDS = 300
_cache: dict[tuple[str, str], tuple[float, WaTemplate | None]] = {}


@dataclass(frozen=True)
class Part:
    """A run of a template's text: its own words, or the value of placeholder ``slot``."""

    text: str
    slot: int | None = None
    missing: bool = False
    key: str = ""  # "body-2", "header-1", "button-0-1": the field that fills it (messaging/forms.py)


@dataclass(frozen=True)
class Rendered:
    """A template as the customer sees it. ``values`` None renders the placeholders themselves
    (``{{1}}``), for the Templates page."""

    name: str
    language: str
    header: tuple[Part, ...] = ()
    header_media: str | None = None
    body: tuple[Part, ...] = ()
    footer: str = ""
    buttons: tuple[tuple[Part, ...], ...] = ()

    @property
    def body_text(self) -> str:
        return _joined(self.body)

    @property
    def missing(self) -> bool:
        return any(p.missing for part in (self.header, self.body, *self.buttons) for p in part)

    @property
    def text(self) -> str:
        """Header, body, footer and buttons, one block each, as plain text (a thread's bubble)."""
        lines = [f"[{self.header_media.capitalize()}]" if self.header_media else _joined(self.header)]
        lines += [self.body_text, self.footer, " ".join(f"[{_joined(b)}]" for b in self.buttons)]
        return "\n".join(line for line in lines if line)


def _joined(parts: tuple[Part, ...]) -> str:
    return "".join(p.text for p in parts)


def fill(text: str, values: list[Any] | None, section: str = "body") -> tuple[Part, ...]:
    """``text`` with ``{{n}}`` replaced by ``values[n-1]``; a missing value is marked missing.
    ``section`` names the part of the template (``key`` of each slot: "body-2")."""
    parts: list[Part] = []
    at = 0
    for match in PLACEHOLDER.finditer(text or ""):
        if match.start() > at:
            parts.append(Part(text[at : match.start()]))
        n = int(match.group(1))
        key = f"{section}-{n}"
        if values is None:
            parts.append(Part(f"{{{{{n}}}}}", slot=n, key=key))
        elif 0 < n <= len(values) and isinstance(values[n - 1], str) and values[n - 1].strip():
            parts.append(Part(values[n - 1], slot=n, key=key))
        else:
            parts.append(Part(MISSING.format(n=n), slot=n, missing=True, key=key))
        at = match.end()
    if at < len(text or ""):
        parts.append(Part(text[at:]))
    return tuple(parts)


def render(template: WaTemplate, parameters: dict[str, Any] | None) -> Rendered:
    """``template`` with ``parameters`` ({"header": [...], "body": [...], "buttons": [[...], ...]},
    the shape a send takes); None shows the placeholders."""
    given = parameters or {}

    def values(part: str) -> list[Any] | None:
        return None if parameters is None else list(given.get(part) or [])

    header: tuple[Part, ...] = ()
    header_media = None
    body: tuple[Part, ...] = ()
    footer = ""
    buttons: list[tuple[Part, ...]] = []
    button_values = list(given.get("buttons") or [])
    for component in template.components or []:
        if not isinstance(component, dict):
            continue  # a malformed definition draws what it can; pages never fail on it
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER" and str(component.get("format", "TEXT")).upper() == "TEXT":
            header = fill(component.get("text", ""), values("header"), "header")
        elif kind == "HEADER":
            header_media = MEDIA_HEADERS.get(str(component.get("format", "")).upper()) or "file"
        elif kind == "BODY":
            body = fill(component.get("text", ""), values("body"))
        elif kind == "FOOTER":
            footer = str(component.get("text", ""))
        elif kind == "BUTTONS":
            for i, button in enumerate(b for b in component.get("buttons") or [] if isinstance(b, dict)):
                buttons.append(_button(button, None if parameters is None else _at(button_values, i), f"button-{i}"))
    return Rendered(
        name=template.templateName,
        language=template.templateLanguage or "",
        header=header,
        header_media=header_media,
        body=body,
        footer=footer,
        buttons=tuple(buttons),
    )


def _at(items: list[Any], index: int) -> list[Any]:
    value = items[index] if index < len(items) else None
    return list(value) if isinstance(value, list) else []


def _button(button: dict[str, Any], values: list[Any] | None, section: str) -> tuple[Part, ...]:
    """A button as it is drawn: its label, and for a link, where it goes (with its value)."""
    label = Part(str(button.get("text", "")))
    if str(button.get("type", "")).upper() == "URL" and button.get("url"):
        return (label, Part(" → "), *fill(str(button["url"]), values, section))
    if str(button.get("type", "")).upper() == "PHONE_NUMBER" and button.get("phone_number"):
        return (label, Part(f" → {button['phone_number']}"))
    return (label,)


def cached_find(name: str, language: str) -> WaTemplate | None:
    """``find``, remembered for ``CACHE_SECONDS`` (see there)."""
    key, clock = (name, language), time.monotonic()
    hit = _cache.get(key)
    if hit is not None and clock - hit[0] < CACHE_SECONDS:
        return hit[1]
    found = find(name, language)
    _cache[key] = (clock, found)
    return found


def render_sent(template: dict[str, Any] | None) -> Rendered | None:
    """A sent (or queued) message's template, as the customer read it: ``template`` is the
    message's ``content["template"]`` (name, language, parameters). None when that template is no
    longer synced, so the caller falls back to its name."""
    if not template or not template.get("name"):
        return None
    found = cached_find(str(template["name"]), str(template.get("language") or ""))
    return render(found, template.get("parameters") or {}) if found else None


def sent_text(template: dict[str, Any] | None) -> str:
    """``render_sent``'s plain text, or, for a template no longer synced, its name and values."""
    rendered = render_sent(template)
    if rendered is not None:
        return rendered.text
    if not template:
        return ""
    values = [v for v in ((template.get("parameters") or {}).get("body") or []) if isinstance(v, str)]
    return f"Template {template.get('name')}" + (f" ({', '.join(values)})" if values else "")


def sync_templates() -> dict[str, int]:
    """Copy every template of every linked WABA into TEMPLATE_EUM items (paged listing, then the
    full definition of each). Returns counts for the caller to show."""
    social = client("socialmessaging")
    _cache.clear()  # a re-synced template renders as it is now
    synced_at = now().isoformat()
    counts = {"wabas": 0, "templates": 0}
    for page in social.get_paginator("list_linked_whatsapp_business_accounts").paginate():
        for account in page.get("linkedAccounts", []):
            waba_id = account["id"]
            counts["wabas"] += 1
            for summary in _list_templates(social, waba_id):  # paged: 100 a page
                definition = social.get_whatsapp_message_template(id=waba_id, metaTemplateId=summary["metaTemplateId"])
                meta = json.loads(definition.get("template") or "{}")
                language = summary.get("templateLanguage") or meta.get("language", "")
                _save_synced(
                    WaTemplate(
                        pk=WaTemplate.key(waba_id, summary["templateName"], language),
                        wabaId=waba_id,
                        templateName=summary["templateName"],
                        metaTemplateId=summary.get("metaTemplateId"),
                        templateStatus=summary.get("templateStatus") or meta.get("status"),
                        templateCategory=summary.get("templateCategory") or meta.get("category"),
                        templateLanguage=language,
                        qualityScore=summary.get("templateQualityScore"),
                        components=meta.get("components", []),
                        receivedAt=synced_at,
                        cachedAt=synced_at,
                        syncedAt=synced_at,
                    ),
                    read_at=synced_at,
                )
                counts["templates"] += 1
    log.info("templates synced", extra=counts)
    return counts


# What the webhook keeps on a template and the sync does not know (messaging/inbound/template_health.py).
HEALTH_ATTRIBUTES = (
    "statusReason",
    "statusDetail",
    "statusChangedAt",
    "previousQualityScore",
    "qualityChangedAt",
    "healthHistory",
    "healthVersion",
)
SYNC_ATTEMPTS = 5


def _save_synced(item: WaTemplate, *, read_at: str | None = None) -> None:
    """Save a synced template, keeping what the webhook recorded on it (reason, history): the
    status itself is AWS's current one. Conditional on the version read, so a webhook event
    recorded meanwhile is read again rather than lost; and it moves the version on, so a webhook
    event being recorded meanwhile reads this save again rather than undo it. A status or quality
    Meta reported after ``read_at`` (when this sync began reading AWS) is newer than AWS's answer
    and stays."""
    for _ in range(SYNC_ATTEMPTS):
        try:
            stored = WaTemplate.get(item.pk, consistent_read=True)
        except WaTemplate.DoesNotExist:
            stored = None
        for name in HEALTH_ATTRIBUTES:
            setattr(item, name, getattr(stored, name, None) if isinstance(stored, WaTemplate) else None)
        if isinstance(stored, WaTemplate) and read_at:
            if _after(stored.statusChangedAt, read_at):
                item.templateStatus = stored.templateStatus  # the webhook's pause is newer than AWS's list
            if _after(stored.qualityChangedAt, read_at):
                item.qualityScore = stored.qualityScore
        condition: Any
        if stored is None:
            condition = WaTemplate.pk.does_not_exist()
        elif item.healthVersion is None:
            condition = WaTemplate.healthVersion.does_not_exist()
        else:
            condition = WaTemplate.healthVersion == item.healthVersion
        if stored is not None:
            # Moved on, so a webhook writer that read the item before this save fails its own
            # version check and reads again, rather than put back the components and status it read.
            item.healthVersion = int(item.healthVersion or 0) + 1
        try:
            item.save(condition=condition)
            return
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"template {item.pk} kept changing under the sync")


def _after(reported: str | None, read_at: str) -> bool:
    """Whether Meta reported (the webhook's time, ISO) after the sync read AWS (ISO)."""
    if not reported:
        return False
    try:
        return datetime.fromisoformat(reported) > datetime.fromisoformat(read_at)
    except ValueError:
        return False


@shared_task(name="messaging.sync_templates")  # every 15 minutes (settings.CELERY_BEAT_SCHEDULE) and on demand
def sync_templates_task() -> dict[str, int]:
    return sync_templates()


def _list_templates(social: Any, waba_id: str):
    for page in social.get_paginator("list_whatsapp_message_templates").paginate(
        id=waba_id, PaginationConfig={"PageSize": 100}
    ):
        yield from page.get("templates", [])
