"""WhatsApp templates: synced from AWS End User Messaging Social into TEMPLATE_EUM items, and
checked before a template send (approved, and given exactly the parameters it has: text values,
and the file of an image, video or document header, docs/design/media.md)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from celery import shared_task

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


def approved_templates() -> list[WaTemplate]:
    items = WaTemplate.item_type_index.query("TEMPLATE_EUM", filter_condition=WaTemplate.templateStatus == "APPROVED")
    return sorted(
        (t for t in items if isinstance(t, WaTemplate)), key=lambda t: (t.templateName, t.templateLanguage or "")
    )


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
    """The approved template, if the parameters fit it; FieldErrors naming what does not.
    ``file_to_upload``: the header's file is one the caller will store at its freshly issued key
    once the gate allows (not recorded yet), or, when none is named yet, one still to be chosen."""
    template = find(name, language)
    if template is None:
        raise FieldErrors({"template": f"no template '{name}' ({language}); sync templates or pick another"})
    if template.templateStatus != "APPROVED":
        raise FieldErrors({"template": f"template '{name}' is {template.templateStatus}, not APPROVED"})
    expected = expected_parameters(template)
    errors = {}
    for part in ("header", "body"):
        given = parameters.get(part) or []
        if len(given) != expected[part]:
            errors[f"template.parameters.{part}"] = f"takes {expected[part]} value(s), {len(given)} given"
        elif any(not isinstance(v, str) or not v.strip() for v in given):
            errors[f"template.parameters.{part}"] = "every value must be non-empty text"
    buttons = parameters.get("buttons") or []
    wanted = list(expected["buttons"])
    if [len(b or []) for b in buttons] + [0] * (len(wanted) - len(buttons)) != wanted:
        errors["template.parameters.buttons"] = f"takes {wanted} value(s) per button"
    if problem := _header_media_error(expected["headerMedia"], parameters.get("headerMedia"), file_to_upload):
        errors["template.parameters.headerMedia"] = problem
    if errors:
        raise FieldErrors(errors)
    return template


def _header_media_error(wanted: str | None, given: Any, file_to_upload: bool) -> str | None:
    """Why ``given`` is not the file the template's header takes, or None."""
    if wanted is None:
        return "this template's header takes no file" if given else None
    if given is None and file_to_upload:
        return None
    if not isinstance(given, dict) or not given.get("s3Key") or not given.get("contentType"):
        return f"this template's header takes a {wanted} file: the uploaded file's s3Key and contentType"
    if not file_to_upload and (refusal := media.reference_error(given)):
        return refusal
    if media_type(str(given["contentType"])) != wanted:
        return f"this template's header takes a {wanted} file, not {given['contentType']}"
    return None


def sync_templates() -> dict[str, int]:
    """Copy every template of every linked WABA into TEMPLATE_EUM items (paged listing, then the
    full definition of each). Returns counts for the caller to show."""
    social = client("socialmessaging")
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
                ).save()
                counts["templates"] += 1
    log.info("templates synced", extra=counts)
    return counts


@shared_task(name="messaging.sync_templates")  # every 15 minutes (settings.CELERY_BEAT_SCHEDULE) and on demand
def sync_templates_task() -> dict[str, int]:
    return sync_templates()


def _list_templates(social: Any, waba_id: str):
    for page in social.get_paginator("list_whatsapp_message_templates").paginate(
        id=waba_id, PaginationConfig={"PageSize": 100}
    ):
        yield from page.get("templates", [])
