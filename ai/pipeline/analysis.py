"""What the foundation model read in a message: intent, entities and a one-line summary (and, when
the customer's window is closed, the template it chose), taken defensively from its JSON answer:
an intent outside the list becomes "other", entities keep only short scalar values, and a missing
or broken answer gives an empty analysis rather than a failure. docs/design/agent.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ai.pipeline.prompts import INTENTS, parse_json

MAX_ENTITIES = 20
MAX_VALUE_CHARS = 200
MAX_SUMMARY_CHARS = 500


@dataclass(frozen=True)
class Analysis:
    intent: str = "other"
    entities: dict[str, str | int | float | bool] = field(default_factory=dict)
    summary: str = ""
    template: dict[str, Any] | None = None  # {name, language, values} as the model chose it


def _entities(raw: Any) -> dict[str, str | int | float | bool]:
    if not isinstance(raw, dict):
        return {}
    kept: dict[str, str | int | float | bool] = {}
    for key, value in list(raw.items())[:MAX_ENTITIES]:
        if isinstance(value, (bool, int, float)):
            kept[str(key)[:60]] = value
        elif isinstance(value, str) and value.strip():
            kept[str(key)[:60]] = value.strip()[:MAX_VALUE_CHARS]
    return kept


def _template(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        return None
    values = raw.get("values")
    return {
        "name": raw["name"],
        "language": str(raw.get("language") or ""),
        "values": [str(v) for v in values] if isinstance(values, list) else [],
    }


def parse(text: str) -> Analysis:
    answer = parse_json(text)
    intent = str(answer.get("intent") or "other").strip().lower()
    summary = answer.get("summary")
    return Analysis(
        intent=intent if intent in INTENTS else "other",
        entities=_entities(answer.get("entities")),
        summary=summary.strip()[:MAX_SUMMARY_CHARS] if isinstance(summary, str) else "",
        template=_template(answer.get("template")),
    )
