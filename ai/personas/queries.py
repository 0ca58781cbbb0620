"""Reads of personas: a persona's version, the one a business number answers with, and the list
for the personas page. Every version is kept; the newest carries ``current`` (a sparse index lists
them). docs/design/agent.md, "Personas and leads".
"""

from __future__ import annotations

from ai import agent_settings
from ai.models import AgentSettings, Persona

ACTIVE = "active"
DRAFT = "draft"
ARCHIVED = "archived"
STATUSES = (ACTIVE, DRAFT, ARCHIVED)

# The key of AgentSettings.personaByNumber that names the persona for every number an admin did
# not choose one for (phone number ids are digits, so it never meets a real one).
DEFAULT = "default"


def get(persona_id: str, version: int | None = None) -> Persona | None:
    """A persona's given version, or its newest when ``version`` is None; None if there is none."""
    if not persona_id:
        return None
    if version is not None:
        try:
            return Persona.get(persona_id, version, consistent_read=True)
        except Persona.DoesNotExist:
            return None
    newest = Persona.query(persona_id, scan_index_forward=False, limit=1, consistent_read=True)
    return next(iter(newest), None)


def versions(persona_id: str) -> list[Persona]:
    """Every version of a persona, newest first."""
    return list(Persona.query(persona_id, scan_index_forward=False, consistent_read=True))


def listing(*, include_archived: bool = True) -> list[Persona]:
    """The newest version of every persona, the most recently changed first. A business has a
    handful, so one page of the sparse index is the whole list."""
    personas = list(Persona.by_current.query("yes", scan_index_forward=False))
    if not include_archived:
        personas = [p for p in personas if p.status != ARCHIVED]
    return personas


def active_for_number(phone_number_id: str | None, settings_item: AgentSettings | None = None) -> Persona | None:
    """The newest version of the persona an admin chose for this business number (ai.agent_settings),
    if it is active; else the default persona if one is marked so; else None. ``settings_item`` is
    the agent's settings when the caller has just read them (the pipeline does, for the switch)."""
    chosen = (settings_item or agent_settings.current()).personaByNumber
    by_number = chosen.as_dict() if chosen is not None else {}
    for key in (phone_number_id, DEFAULT):
        persona_id = by_number.get(key) if key else None
        persona = get(persona_id) if persona_id else None
        if persona is not None and persona.status == ACTIVE:
            return persona
    return None


def chosen_numbers(persona_id: str) -> list[str]:
    """The business numbers (phone number ids, or DEFAULT) that answer with this persona."""
    chosen = agent_settings.current().personaByNumber
    by_number = chosen.as_dict() if chosen is not None else {}
    return sorted(number for number, pid in by_number.items() if pid == persona_id)
