"""The admin's form for a persona: seed 003's configuration as fields a person can type, the
lists one item a line. It turns the lines into the persona's structure; ai/personas/actions.py
checks the result, so the API and this form refuse the same things."""

from __future__ import annotations

from typing import Any

from django import forms

from ai.models import Persona
from ai.personas import actions, queries


def _area(rows: int, help_text: str, label: str | None = None) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=6000, widget=forms.Textarea(attrs={"rows": rows}), help_text=help_text
    )


class PersonaForm(forms.Form):
    name = forms.CharField(max_length=actions.LIMITS["name"], help_text="e.g. Meera, store assistant")
    description = forms.CharField(required=False, max_length=actions.LIMITS["description"])
    status = forms.ChoiceField(
        choices=[
            (queries.ACTIVE, "Active: can answer"),
            (queries.DRAFT, "Draft: not used yet"),
            (queries.ARCHIVED, "Archived: answers for nobody"),
        ],
        help_text="Only an active persona answers for a business number.",
    )
    systemPrompt = forms.CharField(
        label="System prompt",
        max_length=actions.LIMITS["systemPrompt"],
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Who the agent is and what it must never do. Sent with every message.",
    )
    tone = forms.CharField(required=False, max_length=actions.LIMITS["tone"], help_text="e.g. warm, calm")
    style = forms.CharField(required=False, max_length=actions.LIMITS["style"], help_text="e.g. short, plain words")
    responseGuidelines = _area(4, "One guideline a line.", label="Response guidelines")
    intents = _area(4, "One intent a line: id | name | trigger, trigger (e.g. pricing | Prices | price, cost).")
    goals = _area(3, "One goal a line: id | name | type | priority (critical, high, medium or low).")
    companyName = forms.CharField(label="Company name", required=False, max_length=actions.MAX_ITEM)
    companyIndustry = forms.CharField(label="Industry", required=False, max_length=actions.MAX_ITEM)
    companyDescription = forms.CharField(label="What the company does", required=False, max_length=actions.MAX_ITEM)
    companyAddress = forms.CharField(label="Address", required=False, max_length=actions.MAX_ITEM)
    companyPhone = forms.CharField(label="Phone", required=False, max_length=actions.MAX_ITEM)
    companyHours = forms.CharField(label="Opening hours", required=False, max_length=actions.MAX_ITEM)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @staticmethod
    def initial_for(persona: Persona) -> dict[str, Any]:
        company = persona.companyInfo or {}
        return {
            "name": persona.name,
            "description": persona.description or "",
            "status": persona.status,
            "systemPrompt": persona.systemPrompt,
            "tone": persona.tone or "",
            "style": persona.style or "",
            "responseGuidelines": "\n".join(persona.responseGuidelines or []),
            "intents": "\n".join(
                f"{i['id']} | {i.get('name', '')} | {', '.join(i.get('triggers') or [])}" for i in persona.intents or []
            ),
            "goals": "\n".join(
                f"{g['id']} | {g.get('name', '')} | {g.get('type', '')} | {g.get('priority', '')}"
                for g in persona.goals or []
            ),
            **{f"company{k.capitalize()}": company.get(k, "") for k in actions.COMPANY_FIELDS},
            "version": persona.version,
        }

    def persona_data(self) -> dict[str, Any]:
        """The cleaned fields in the persona's shape, for actions.create / actions.edit."""
        data = self.cleaned_data
        return {
            **{k: data[k] for k in ("name", "description", "status", "systemPrompt", "tone", "style")},
            "responseGuidelines": _lines(data["responseGuidelines"]),
            "intents": [
                {"id": p[0], "name": _at(p, 1), "triggers": [t for t in _at(p, 2).split(",") if t.strip()]}
                for p in (_parts(line) for line in _lines(data["intents"]))
            ],
            "goals": [
                {"id": p[0], "name": _at(p, 1), "type": _at(p, 2), "priority": _at(p, 3)}
                for p in (_parts(line) for line in _lines(data["goals"]))
            ],
            "companyInfo": {k: data[f"company{k.capitalize()}"] for k in actions.COMPANY_FIELDS},
        }

    def add_field_errors(self, errors: dict[str, str]) -> None:
        """Put the action's FieldErrors on the fields they name (company ones on the first)."""
        for field, message in errors.items():
            self.add_error(field if field in self.fields else "companyName", message)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _parts(line: str) -> list[str]:
    return [part.strip() for part in line.split("|")]


def _at(parts: list[str], index: int) -> str:
    return parts[index] if index < len(parts) else ""


class ChooseForm(forms.Form):
    """Which persona a business number answers with (an empty choice clears it)."""

    number = forms.CharField(max_length=200)
    persona = forms.CharField(max_length=60, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
