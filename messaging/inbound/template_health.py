"""A template's status and quality as Meta reports them (``message_template_status_update``,
``message_template_quality_update``): the TEMPLATE_EUM item changes at once, with the reason and
a bounded history; a template that became unusable is announced (``template_unusable``: bulk
pauses its jobs) and, when paused, disabled or rejected, alerted. Why:
docs/design/account-health.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.urls import reverse

from messaging.inbound.events import FieldChange
from messaging.inbound.health_events import (
    MAX_TEXT,
    eum_waba_id,
    event_key,
    record_once,
    reported_at,
    text,
    to_alert,
)
from messaging.signals import template_unusable
from messaging.whatsapp_table import WaTemplate
from wecare.alerts import Kind, raise_alert

log = logging.getLogger(__name__)

# Events that name a status other than themselves, and events that leave the status as it is
# (a warning, an edit lock, or LIMIT_EXCEEDED: "the WhatsApp Business Account is at its template
# limit", about the account, not this template's sendability): Meta's event list,
# message_template_status_update reference.
STATUS_OF_EVENT = {"REINSTATED": "APPROVED", "UNARCHIVED": "APPROVED", "UNPAUSED": "APPROVED"}
NOT_A_STATUS = frozenset({"FLAGGED", "LOCKED", "UNLOCKED", "LIMIT_EXCEEDED"})
ALERTED = frozenset({"PAUSED", "DISABLED", "REJECTED"})
VERBS = {"PAUSED": "paused", "DISABLED": "disabled", "REJECTED": "rejected"}


def apply_status(change: FieldChange) -> str:
    value = change.value
    event = (text(value.get("event")) or "").upper()
    if not event and "new_quality_score" in value:
        # Meta's own example of a quality change is labelled message_template_status_update.
        return apply_quality(change)
    name, language = text(value.get("message_template_name")), text(value.get("message_template_language"))
    if not event or not name or not language:
        log.warning("template status change without event, name or language", extra={"value": value})
        return "malformed"
    status = None if event in NOT_A_STATUS else STATUS_OF_EVENT.get(event, event)
    reason = text(value.get("reason"))
    detail = _detail(value)
    at = reported_at(change)
    entry = {"kind": "status", "event": event, "reason": reason, "detail": detail, "at": at, "key": event_key(change)}

    def change_item(item: WaTemplate) -> None:
        category = text(value.get("message_template_category"))
        if category:
            item.templateCategory = category.upper()
        if status is not None and at >= (item.statusChangedAt or ""):  # an older event arriving late is history only
            item.templateStatus = status
            item.statusReason = reason
            item.statusDetail = detail
            item.statusChangedAt = at

    outcome, item = _record(change, name, language, entry, change_item)
    current = item.templateStatus == status and item.statusChangedAt == at
    if status is not None and status != "APPROVED" and current:
        # Announced again on a duplicate delivery: pausing a paused job changes nothing, and this
        # way a worker that died after the write still gets the jobs paused on the retry. Sent
        # so that a listener's failure (bulk's Scan throttled) raises and the task retries, as
        # for a worker that died: logged and dropped, the jobs would go on sending a template
        # WhatsApp refuses.
        template_unusable.send(
            sender=None, name=name, language=language, status=status, reason=describe(name, language, entry)
        )
    subject = f"{name} ({language})"
    if current and status in ALERTED and to_alert(outcome, Kind.TEMPLATE_UNUSABLE, subject, at):
        raise_alert(
            Kind.TEMPLATE_UNUSABLE,
            subject,
            describe(name, language, entry),
            link=reverse("messaging:templates"),
        )
    return outcome


def apply_quality(change: FieldChange) -> str:
    value = change.value
    name, language = text(value.get("message_template_name")), text(value.get("message_template_language"))
    score = (text(value.get("new_quality_score")) or "").upper()
    if not name or not language or not score:
        log.warning("template quality change without name, language or score", extra={"value": value})
        return "malformed"
    previous = (text(value.get("previous_quality_score")) or "").upper() or None
    at = reported_at(change)
    entry = {"kind": "quality", "score": score, "previous": previous, "at": at, "key": event_key(change)}

    def change_item(item: WaTemplate) -> None:
        if at >= (item.qualityChangedAt or ""):
            item.qualityScore = score
            item.previousQualityScore = previous
            item.qualityChangedAt = at

    outcome, _ = _record(change, name, language, entry, change_item)
    return outcome


def describe(name: str, language: str, entry: dict[str, Any]) -> str:
    """The sentence a person reads on the job page and in the alert."""
    event = entry["event"]
    said = f"WhatsApp {VERBS.get(event, 'marked')} the template {name} ({language})"
    said += "" if event in VERBS else f" {event.lower().replace('_', ' ')}"
    reason = entry.get("reason")
    if reason and reason.upper() != "NONE":
        said += f", reason {reason}"
    if entry.get("detail"):
        said += f": {entry['detail'].rstrip('.')}"
    return said + "."


def _detail(value: dict[str, Any]) -> str | None:
    """Meta's sentence about the change: why it was rejected (and what to do), or the pause notice."""
    rejection = _block(value, "rejection_info")
    other = _block(value, "other_info")
    parts = [text(rejection.get("reason")), text(rejection.get("recommendation")), text(other.get("description"))]
    return " ".join(p for p in parts if p)[:MAX_TEXT] or text(other.get("title"))


def _block(value: dict[str, Any], key: str) -> dict[str, Any]:
    block = value.get(key)
    return block if isinstance(block, dict) else {}


def _record(
    change: FieldChange, name: str, language: str, entry: dict[str, Any], change_item: Callable[[WaTemplate], None]
) -> tuple[str, WaTemplate]:
    meta_id = text(change.value.get("message_template_id"))
    waba = eum_waba_id(change) or change.waba_id or "unknown"
    pk = WaTemplate.key(waba, name, language)

    def create() -> WaTemplate:
        # Not synced yet: the event is kept, and the sync fills in the rest.
        return WaTemplate(
            pk=pk,
            wabaId=waba,
            templateName=name,
            templateLanguage=language,
            metaTemplateId=meta_id,
            receivedAt=entry["at"],
        )

    outcome, item = record_once(
        lambda: _find(meta_id, name, language) or _get(pk), create, entry, change_item, history="healthHistory"
    )
    log.info("template health", extra={"outcome": outcome, "template": name, "language": language, **entry})
    return outcome, item


def _find(meta_id: str | None, name: str, language: str) -> WaTemplate | None:
    """The synced template, by Meta's id, else by name and language; read consistently by key."""
    condition = (
        WaTemplate.metaTemplateId == meta_id
        if meta_id
        else (WaTemplate.templateName == name) & (WaTemplate.templateLanguage == language)
    )
    found = next((t for t in WaTemplate.item_type_index.query("TEMPLATE_EUM", filter_condition=condition)), None)
    if found is None and meta_id:
        return _find(None, name, language)
    return _get(found.pk) if found is not None else None


def _get(pk: str) -> WaTemplate | None:
    """The item itself, read consistently (the index may lag behind a write just made)."""
    try:
        item = WaTemplate.get(pk, consistent_read=True)
    except WaTemplate.DoesNotExist:
        return None
    return item if isinstance(item, WaTemplate) else None
