"""WhatsApp message templates the fake's business account owns.

ListWhatsAppMessageTemplates answers the summary members (templateName, metaTemplateId, ...);
GetWhatsAppMessageTemplate answers `{"template": "<JSON string>"}` in Meta's Graph API shape
(name, language, status, category, id, parameter_format, components). The seed covers what the
template sync and the senders must handle: positional body parameters, text and image headers,
footers, quick-reply and URL buttons, a template awaiting review and a rejected one.
Tests replace the list with `POST /__fake/templates` (or `FakeAwsServer.set_templates`).
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

# Members of the model's TemplateSummary that each template carries; `components` is ours.
SUMMARY_MEMBERS = (
    "templateName",
    "metaTemplateId",
    "templateStatus",
    "templateCategory",
    "templateLanguage",
    "templateQualityScore",
)

SEED_TEMPLATES: list[dict[str, Any]] = [
    {
        "templateName": "welcome_message",
        "metaTemplateId": "1029384756000001",
        "templateStatus": "APPROVED",
        "templateCategory": "UTILITY",
        "templateLanguage": "en_US",
        "templateQualityScore": "GREEN",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Welcome to WECARE.DIGITAL"},
            {
                "type": "BODY",
                "text": "Hello {{1}}, thank you for choosing {{2}}. Reply to this message any time.",
                "example": {"body_text": [["Asha", "WECARE.DIGITAL"]]},
            },
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Get started"},
                    {"type": "QUICK_REPLY", "text": "Talk to us"},
                ],
            },
        ],
    },
    {
        "templateName": "appointment_reminder",
        "metaTemplateId": "1029384756000002",
        "templateStatus": "APPROVED",
        "templateCategory": "UTILITY",
        "templateLanguage": "en_US",
        "templateQualityScore": "GREEN",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, this is a reminder of your appointment on {{2}}.",
                "example": {"body_text": [["Ravi", "12 March, 10:30"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Manage booking",
                        "url": "https://wecare.digital/booking/{{1}}",
                        "example": ["https://wecare.digital/booking/abc123"],
                    }
                ],
            },
        ],
    },
    {
        "templateName": "order_update",
        "metaTemplateId": "1029384756000003",
        "templateStatus": "APPROVED",
        "templateCategory": "UTILITY",
        "templateLanguage": "en_US",
        "templateQualityScore": "UNKNOWN",
        "components": [
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_handle": ["https://example.com/sample-order.jpg"]},
            },
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} is on its way.",
                "example": {"body_text": [["Meera", "WC-1042"]]},
            },
        ],
    },
    {
        "templateName": "seasonal_offer",
        "metaTemplateId": "1029384756000004",
        "templateStatus": "APPROVED",
        "templateCategory": "MARKETING",
        "templateLanguage": "en_US",
        "templateQualityScore": "YELLOW",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "A season of care"},
            {
                "type": "BODY",
                "text": "Dear {{1}}, enjoy {{2}} off this month.",
                "example": {"body_text": [["Kabir", "15%"]]},
            },
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]},
        ],
    },
    {
        "templateName": "welcome_message",
        "metaTemplateId": "1029384756000005",
        "templateStatus": "APPROVED",
        "templateCategory": "UTILITY",
        "templateLanguage": "hi",
        "templateQualityScore": "GREEN",
        "components": [
            {
                "type": "BODY",
                "text": "नमस्ते {{1}}, {{2}} चुनने के लिए धन्यवाद।",
                "example": {"body_text": [["आशा", "WECARE.DIGITAL"]]},
            },
        ],
    },
    {
        "templateName": "feedback_request",
        "metaTemplateId": "1029384756000006",
        "templateStatus": "PENDING",
        "templateCategory": "UTILITY",
        "templateLanguage": "en_US",
        "templateQualityScore": "UNKNOWN",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, how was your visit on {{2}}?",
                "example": {"body_text": [["Asha", "Monday"]]},
            }
        ],
    },
    {
        "templateName": "flash_sale",
        "metaTemplateId": "1029384756000007",
        "templateStatus": "REJECTED",
        "templateCategory": "MARKETING",
        "templateLanguage": "en_US",
        "templateQualityScore": "UNKNOWN",
        "components": [
            {
                "type": "BODY",
                "text": "{{1}}, everything must go: {{2}}!",
                "example": {"body_text": [["Friend", "today only"]]},
            }
        ],
    },
]

DEFAULT_COMPONENTS = [{"type": "BODY", "text": "Hello {{1}}, {{2}}.", "example": {"body_text": [["Asha", "welcome"]]}}]
_generated_ids = itertools.count(1029384757000001)


def seed() -> list[dict[str, Any]]:
    return copy.deepcopy(SEED_TEMPLATES)


def complete(template: dict[str, Any]) -> dict[str, Any]:
    """A template given to `POST /__fake/templates`, with defaults for what it leaves out."""
    filled = {
        "templateStatus": "APPROVED",
        "templateCategory": "UTILITY",
        "templateLanguage": "en_US",
        "templateQualityScore": "GREEN",
        "components": DEFAULT_COMPONENTS,
        **template,
    }
    filled.setdefault("metaTemplateId", str(next(_generated_ids)))
    return copy.deepcopy(filled)


def summary(template: dict[str, Any]) -> dict[str, Any]:
    return {name: template[name] for name in SUMMARY_MEMBERS if template.get(name) is not None}


def meta_json(template: dict[str, Any]) -> str:
    """The template as Meta's Graph API describes it, serialized: GetWhatsAppMessageTemplate's answer."""
    return json.dumps(
        {
            "name": template["templateName"],
            "language": template["templateLanguage"],
            "status": template["templateStatus"],
            "category": template["templateCategory"],
            "id": template["metaTemplateId"],
            "parameter_format": "POSITIONAL",
            "components": template.get("components") or [],
        },
        ensure_ascii=False,
    )
