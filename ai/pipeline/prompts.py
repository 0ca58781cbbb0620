"""The prompts the pipeline sends, rendered from ai/templates/ai/pipeline/. Everything a customer
wrote and every retrieved passage goes inside its own tags and is declared data; ``data`` takes
the angle brackets out of such text so it cannot close its tag and speak as instructions.
``PROMPT_VERSION`` names the wording an interaction was drafted with: change it with the templates.
docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import json
from typing import Any

from django.template.loader import render_to_string

from ai.bedrock.calls import Passage
from ai.models import Lead, Persona

PROMPT_VERSION = "agent-2026-11-30.1"

INTENTS = (
    "pricing",
    "purchase",
    "availability",
    "order_status",
    "booking",
    "returns",
    "complaint",
    "hours",
    "greeting",
    "opt_out",
    "other",
)


def data(text: str | None) -> str:
    """Text from outside (the customer, a passage) made safe to put between tags."""
    return (text or "").replace("<", "\u2039").replace(">", "\u203a")


def agent_input(customer: str) -> str:
    return render_to_string("ai/pipeline/agent_input.txt", {"customer": data(customer)}).strip()


def draft_system(persona: Persona | None) -> str:
    context: dict[str, Any] = {}
    if persona is not None:
        context["persona"] = {
            "systemPrompt": persona.systemPrompt,
            "tone": persona.tone,
            "style": persona.style,
            "responseGuidelines": [str(g) for g in persona.responseGuidelines or []],
        }
        company = persona.companyInfo or {}
        context["company"] = (
            "; ".join(f"{k}: {v}" for k, v in company.items() if v) if isinstance(company, dict) else ""
        )
    return render_to_string("ai/pipeline/draft_system.txt", context).strip()


def draft_user(customer: str, passages: list[Passage]) -> str:
    shown = [{"title": data(p.title), "text": data(p.text)} for p in passages]
    return render_to_string("ai/pipeline/draft_user.txt", {"customer": data(customer), "passages": shown}).strip()


def analysis_system(templates: list[dict[str, str]] | None = None) -> str:
    """``templates``: [{name, language, text}] the model may choose from (the window is closed)."""
    shown = [{k: data(v) for k, v in t.items()} for t in templates or []]
    return render_to_string(
        "ai/pipeline/analysis_system.txt", {"intents": ", ".join(INTENTS), "templates": shown}
    ).strip()


def analysis_user(customer: str, name: str | None) -> str:
    return render_to_string("ai/pipeline/analysis_user.txt", {"customer": data(customer), "name": data(name)}).strip()


def user_message(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def session_attributes(persona: Persona | None, lead: Lead | None) -> dict[str, str]:
    """The persona and the lead's facts as the agent's prompt session attributes (strings, as
    InvokeAgent takes them): its prompt templates read them as $prompt_session_attributes$."""
    attributes: dict[str, str] = {}
    if persona is not None:
        attributes["persona"] = json.dumps(
            {
                "name": persona.name,
                "instructions": persona.systemPrompt,
                "tone": persona.tone,
                "style": persona.style,
                "guidelines": persona.responseGuidelines or [],
                "goals": persona.goals or [],
                "company": persona.companyInfo or {},
            },
            ensure_ascii=False,
        )
    if lead is not None:
        attributes["lead"] = json.dumps(
            {
                "status": lead.status,
                "score": lead.score,
                "interest": lead.interest,
                "urgency": lead.urgency,
                "source": lead.source,
                "campaign": lead.campaign,
            },
            ensure_ascii=False,
        )
    return attributes


def parse_json(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer, however it is wrapped (a code fence, a sentence
    before it); {} when there is none. A model asked for JSON does not always answer only JSON."""
    decoder = json.JSONDecoder()
    at = text.find("{")
    while at != -1:
        try:
            value, _end = decoder.raw_decode(text, at)
        except ValueError:
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict):
            return value
        at = text.find("{", at + 1)
    return {}
