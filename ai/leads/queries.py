"""Reads of leads. PLACEHOLDER written by the lead: the signatures are the contract the pipeline
uses; the leads part builds them."""

from __future__ import annotations

from ai.models import Lead


def for_contact(contact_id: str | None) -> Lead | None:
    raise NotImplementedError("built by the leads part")
