"""The change to a contact's lead qualification that a message suggests, from its intent and
entities: a proposal stored on the interaction, which an operator accepts or dismisses on the
contact's lead panel (ai/leads). Nothing here writes the Lead. docs/design/agent.md.
"""

from __future__ import annotations

from typing import Any

from ai.models import Lead, LeadStatus

# How much a message of each intent says about the customer's interest (0..1 added, capped at 1)
# and the score (0..100). Buying questions say most; a complaint or a STOP says the opposite.
INTEREST = {"pricing": 0.2, "purchase": 0.3, "availability": 0.15, "booking": 0.2, "order_status": 0.05}
SCORE = {"pricing": 10, "purchase": 20, "availability": 5, "booking": 10, "complaint": -5, "opt_out": -20}
URGENT_WORDS = ("today", "now", "urgent", "asap", "tomorrow", "immediately")


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def propose(intent: str, entities: dict[str, Any], lead: Lead | None, customer_text: str) -> dict[str, Any] | None:
    """{status?, score?, interest?, urgency?, source?, note} or None when the message says nothing
    new about the lead."""
    status = lead.status if lead else None
    interest = float(lead.interest) if lead and lead.interest is not None else 0.0
    score = float(lead.score) if lead and lead.score is not None else 0.0
    urgency = float(lead.urgency) if lead and lead.urgency is not None else 0.0
    change: dict[str, Any] = {}
    if lead is None:
        change.update(status=LeadStatus.NEW.value, source="whatsapp")
    elif status == LeadStatus.NEW.value and intent in INTEREST:
        change["status"] = LeadStatus.CONTACTED.value  # the customer engaged about buying
    if intent in INTEREST:
        change["interest"] = round(_clamp(interest + INTEREST[intent], 0, 1), 2)
    if intent in SCORE:
        change["score"] = int(_clamp(score + SCORE[intent], 0, 100))
    said = f"{customer_text} {' '.join(str(v) for v in entities.values())}".lower()
    if any(word in said for word in URGENT_WORDS):
        change["urgency"] = round(_clamp(max(urgency, 0.7), 0, 1), 2)
    if lead is not None and not change:
        return None
    if lead is None and intent not in INTEREST and intent not in SCORE:
        return None  # a greeting from a stranger does not make a lead
    facts = ", ".join(f"{k}: {v}" for k, v in list(entities.items())[:5])
    change["note"] = f"Asked about {intent.replace('_', ' ')}" + (f" ({facts})" if facts else "") + "."
    return change
