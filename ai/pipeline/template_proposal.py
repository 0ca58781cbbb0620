"""The suggestion when the customer's 24-hour window has closed: WhatsApp then takes only an
approved template, so the pipeline proposes one of the synced approved templates with its values
filled, never free text. The model chooses and fills one (in its analysis); the choice is checked
as a send would check it (messaging.outbound.template_catalog.validate). When the model chose none
that passes, a template that needs only the customer's name is proposed; when there is none of
those either, the suggestion says so. docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from messaging.outbound import template_catalog
from messaging.whatsapp_table import WaTemplate
from wecare.errors import FieldErrors

# Categories a reply may take: authentication templates carry codes, and a marketing template is
# not an answer to what the customer asked.
REPLY_CATEGORIES = {"UTILITY"}
WORD = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class Proposal:
    template: dict[str, Any] | None  # {name, language, values}; None: no approved template fits
    text: str  # the template as the customer would read it, or why there is none


def candidates() -> list[WaTemplate]:
    """Approved reply templates the pipeline can fill: no header file, no link-button values (it
    has neither) and no header values."""
    fitting = []
    for template in template_catalog.approved_templates():
        if (template.templateCategory or "").upper() not in REPLY_CATEGORIES:
            continue
        expected = template_catalog.expected_parameters(template)
        if expected["headerMedia"] or expected["header"] or any(expected["buttons"]):
            continue
        fitting.append(template)
    return fitting


def listing(templates: list[WaTemplate]) -> list[dict[str, str]]:
    """What the model is shown: each template's name, language and text with its placeholders."""
    return [
        {
            "name": t.templateName,
            "language": t.templateLanguage or "",
            "text": template_catalog.render(t, None).text,
        }
        for t in templates
    ]


def _checked(choice: dict[str, Any] | None, allowed: list[WaTemplate]) -> dict[str, Any] | None:
    if not choice:
        return None
    names = {(t.templateName, t.templateLanguage or "") for t in allowed}
    if (choice["name"], choice["language"]) not in names:
        return None
    try:
        template_catalog.validate(choice["name"], choice["language"], {"body": choice["values"]})
    except FieldErrors:
        return None
    return choice


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


def _by_name_only(allowed: list[WaTemplate], customer_name: str, query: str) -> dict[str, Any] | None:
    """The template closest to the message (shared words) among those whose only value is the
    customer's name ({{1}})."""
    asked = _words(query)
    best: tuple[int, str, dict[str, Any]] | None = None
    for template in allowed:
        if template_catalog.expected_parameters(template)["body"] > 1:
            continue
        values = [customer_name] if template_catalog.expected_parameters(template)["body"] else []
        overlap = len(asked & _words(template_catalog.render(template, None).text))
        rank = (-overlap, template.templateName)
        if best is None or rank < best[:2]:
            best = (
                *rank,
                {"name": template.templateName, "language": template.templateLanguage or "", "values": values},
            )
    return best[2] if best else None


def propose(
    choice: dict[str, Any] | None, allowed: list[WaTemplate], *, customer_name: str | None, query: str
) -> Proposal:
    chosen = _checked(choice, allowed) or _by_name_only(allowed, (customer_name or "").split(" ")[0] or "there", query)
    if chosen is None:
        return Proposal(None, "")
    found = next(
        t for t in allowed if (t.templateName, t.templateLanguage or "") == (chosen["name"], chosen["language"])
    )
    return Proposal(chosen, template_catalog.render(found, {"body": chosen["values"]}).text)
