"""Reads of personas. PLACEHOLDER written by the lead: the signatures are the contract the
pipeline uses; the personas part builds them."""

from __future__ import annotations

from ai.models import Persona


def get(persona_id: str, version: int | None = None) -> Persona | None:
    """A persona's given version, or its newest when ``version`` is None; None if there is none."""
    raise NotImplementedError("built by the personas part")


def active_for_number(phone_number_id: str | None) -> Persona | None:
    """The newest version of the persona an admin chose for this business number (ai.agent_settings),
    if it is active; else the default persona if one is marked so; else None."""
    raise NotImplementedError("built by the personas part")
