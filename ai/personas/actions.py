"""Changes to personas: create one, edit it (every edit writes version n+1 and the older version
is kept as it was), archive it, and choose the persona a business number answers with. Each is
audited; each edit is conditional on the version the admin saw. docs/design/agent.md, "Personas
and leads".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from pynamodb.exceptions import PutError, TransactWriteError
from ulid import ULID

from ai import agent_settings
from ai.models import AgentSettings, Persona
from ai.personas import queries
from wecare import audit
from wecare.dynamo import now, transaction
from wecare.errors import Conflict, FieldErrors, NotFound

# Bounds that keep a persona a prompt, not a document: the whole of it goes to the agent with
# every message, so its size is paid for in tokens each time.
LIMITS = {"name": 80, "description": 300, "systemPrompt": 4000, "tone": 200, "style": 200}
MAX_LIST = 20  # guidelines, intents, goals, triggers
MAX_ITEM = 300
COMPANY_FIELDS = ("name", "industry", "description", "address", "phone", "hours")
GOAL_PRIORITIES = ("critical", "high", "medium", "low")
STALE = "this persona changed since the page was shown (now version {v}); reload to see it"


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """The persona's fields, checked; FieldErrors names every field that is wrong."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, limit in LIMITS.items():
        value = str(data.get(field) or "").strip()
        if len(value) > limit:
            errors[field] = f"at most {limit} characters"
        out[field] = value or None
    for field in ("name", "systemPrompt"):
        if not out[field]:
            errors[field] = "required"
    status = data.get("status") or queries.ACTIVE
    if status not in queries.STATUSES:
        errors["status"] = "one of " + ", ".join(queries.STATUSES)
    out["status"] = status
    guidelines = [str(g).strip() for g in data.get("responseGuidelines") or [] if str(g).strip()]
    out["responseGuidelines"] = guidelines
    out["intents"] = _intents(data.get("intents") or [], errors)
    out["goals"] = _goals(data.get("goals") or [], errors)
    company = data.get("companyInfo") or {}
    if not isinstance(company, dict):
        errors["companyInfo"] = "an object"
        company = {}
    out["companyInfo"] = {k: str(company.get(k) or "").strip() for k in COMPANY_FIELDS if company.get(k)}
    if len(guidelines) > MAX_LIST or any(len(g) > MAX_ITEM for g in guidelines):
        errors["responseGuidelines"] = f"at most {MAX_LIST} lines of {MAX_ITEM} characters"
    if any(len(v) > MAX_ITEM for v in out["companyInfo"].values()):
        errors["companyInfo"] = f"each at most {MAX_ITEM} characters"
    if errors:
        raise FieldErrors(errors)
    return out


def _intents(raw: list[Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    intents = []
    for item in raw:
        if not isinstance(item, dict) or not str(item.get("id") or "").strip():
            errors["intents"] = "each intent needs an id"
            continue
        triggers = [str(t).strip().lower() for t in item.get("triggers") or [] if str(t).strip()]
        intent_id = str(item["id"]).strip()
        intents.append({"id": intent_id, "name": str(item.get("name") or intent_id).strip(), "triggers": triggers})
        if len(triggers) > MAX_LIST or len(intent_id) > 60:
            errors["intents"] = f"an id of at most 60 characters and at most {MAX_LIST} triggers each"
    if len(intents) > MAX_LIST:
        errors["intents"] = f"at most {MAX_LIST} intents"
    if len({i["id"] for i in intents}) != len(intents):
        errors["intents"] = "each intent id once"
    return intents


def _goals(raw: list[Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    goals = []
    for item in raw:
        if not isinstance(item, dict) or not str(item.get("id") or "").strip():
            errors["goals"] = "each goal needs an id"
            continue
        priority = str(item.get("priority") or "medium").strip().lower()
        if priority not in GOAL_PRIORITIES:
            errors["goals"] = "priority is one of " + ", ".join(GOAL_PRIORITIES)
        goal_id = str(item["id"]).strip()
        goals.append(
            {
                "id": goal_id,
                "name": str(item.get("name") or goal_id).strip(),
                "type": str(item.get("type") or "collect_info").strip(),
                "priority": priority,
            }
        )
    if len(goals) > MAX_LIST:
        errors["goals"] = f"at most {MAX_LIST} goals"
    return goals


def create(data: dict[str, Any], *, user: Any, persona_id: str | None = None) -> Persona:
    """Version 1 of a new persona; ``persona_id`` names it (the demo's), else a new ULID does.
    Conflict if that id is taken."""
    fields = clean(data)
    persona = Persona(
        personaId=persona_id or str(ULID()).lower(),
        version=1,
        current="yes",
        **fields,
        updatedAt=now().isoformat(),
        updatedBy=audit.actor_id(user),
    )
    try:
        persona.save(condition=Persona.personaId.does_not_exist())
    except PutError as exc:
        raise Conflict(f"a persona {persona.personaId} exists already", field="personaId") from exc
    audit.record(user, "persona.create", "persona", persona.personaId, name=persona.name, version=1)
    return persona


def edit(persona_id: str, data: dict[str, Any], *, expected_version: int, user: Any) -> Persona:
    """Write version ``expected_version + 1`` with ``data``; Conflict if someone saved first."""
    fields = clean(data)
    return _new_version(persona_id, fields, expected_version, user, "persona.edit")


def archive(persona_id: str, *, expected_version: int, user: Any) -> Persona:
    """A new version with status archived: numbers that chose it fall back to the default."""
    older = _current(persona_id, expected_version)
    fields = {name: getattr(older, name) for name in (*LIMITS, "responseGuidelines", "intents", "goals", "companyInfo")}
    return _new_version(persona_id, {**fields, "status": queries.ARCHIVED}, expected_version, user, "persona.archive")


def _current(persona_id: str, expected_version: int) -> Persona:
    older = queries.get(persona_id)
    if older is None:
        raise NotFound(f"no persona {persona_id}")
    if older.version != expected_version:
        raise Conflict(STALE.format(v=older.version), field="version")
    return older


def _new_version(persona_id: str, fields: dict[str, Any], expected_version: int, user: Any, action: str) -> Persona:
    older = _current(persona_id, expected_version)
    persona = Persona(
        personaId=persona_id,
        version=older.version + 1,
        current="yes",
        **fields,
        updatedAt=now().isoformat(),
        updatedBy=audit.actor_id(user),
    )
    # One transaction: the new version appears and the older one stops being current together,
    # and it commits only if nobody wrote that version number first.
    try:
        with transaction() as tx:
            tx.save(persona, condition=Persona.personaId.does_not_exist())
            tx.update(older, actions=[Persona.current.remove()], condition=Persona.current == "yes")
    except TransactWriteError as exc:
        raise Conflict(STALE.format(v="newer"), field="version") from exc
    audit.record(user, action, "persona", persona_id, name=persona.name, version=persona.version, status=persona.status)
    return persona


def business_numbers() -> list[str]:
    """The WhatsApp business numbers (phone number ids) a persona can be chosen for."""
    return list(settings.WHATSAPP_PHONE_NUMBER_IDS)


def choose(number: str, persona_id: str | None, *, user: Any, expected_version: int | None = None) -> AgentSettings:
    """``number`` (a business number, or queries.DEFAULT for every number without a choice)
    answers with ``persona_id``; None clears the choice."""
    if number != queries.DEFAULT and number not in business_numbers():
        raise FieldErrors({"number": "not one of the WhatsApp business numbers"})
    if persona_id:
        persona = queries.get(persona_id)
        if persona is None or persona.status != queries.ACTIVE:
            raise FieldErrors({"persona": "choose an active persona"})
    return agent_settings.set_persona(number, persona_id or None, user=user, expected_version=expected_version)
