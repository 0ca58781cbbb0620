"""Local stack only: the agent's demo persona (the store assistant of the demo business the local
knowledge base describes), chosen as the default for every business number unless an admin chose
otherwise, and a few demo contacts qualified as leads. `make run` runs it at every start after
seed_demo; what is there already is kept (docs/local-stack.md)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ai import agent_settings
from ai.leads import actions as lead_actions
from ai.leads import queries as lead_queries
from ai.personas import actions as persona_actions
from ai.personas import queries as persona_queries
from contacts.queries import find_live_by_phone

PERSONA_ID = "demo-store-assistant"
PERSONA: dict[str, Any] = {
    "name": "Meera, store assistant",
    "description": "Answers customers of the MG Road store on WhatsApp",
    "status": "active",
    "systemPrompt": (
        "You are Meera, who answers customers of WECARE's clothing store on MG Road, Bengaluru, on WhatsApp. "
        "Answer only from the store's knowledge base; when it does not say, say that a colleague will check. "
        "Never promise a refund, a discount or a delivery date the knowledge base does not state, "
        "and never send offers: a person decides what is sent."
    ),
    "tone": "warm, calm, helpful",
    "style": "short messages in plain words, one question at a time",
    "responseGuidelines": [
        "Keep a reply under 60 words",
        "Ask for the order number when a question is about an order",
        "Offer a styling appointment when a customer is unsure about a size",
    ],
    "intents": [
        {"id": "pricing", "name": "Prices and offers", "triggers": ["price", "cost", "offer", "discount"]},
        {"id": "order_status", "name": "Where is my order", "triggers": ["order", "ready", "pickup", "delivery"]},
        {"id": "availability", "name": "Sizes and stock", "triggers": ["size", "stock", "colour", "available"]},
        {"id": "booking", "name": "Styling appointment", "triggers": ["appointment", "book", "stylist"]},
    ],
    "goals": [
        {"id": "order_number", "name": "Get the order number", "type": "collect_info", "priority": "high"},
        {"id": "book_visit", "name": "Book a styling appointment", "type": "convert", "priority": "medium"},
    ],
    "companyInfo": {
        "name": "WECARE Clothing, MG Road",
        "industry": "Clothing retail",
        "description": "Clothing for every season, in the store and online",
        "address": "14 MG Road, Bengaluru",
        "hours": "Mon-Sat 10:00-20:00, Sun 11:00-17:00",
    },
}

# Demo contacts (seed_demo's) and how far along they are as leads.
LEADS: list[tuple[str, dict[str, Any], str]] = [
    (
        "+919812345670",
        {
            "status": "qualified",
            "score": 70,
            "interest": 0.8,
            "urgency": 0.4,
            "source": "whatsapp",
            "campaign": "winter-wear",
        },
        "Buys winter wear every season; asked about the loyalty club.",
    ),
    (
        "+971501234567",
        {"status": "contacted", "score": 35, "interest": 0.6, "urgency": 0.7, "source": "whatsapp"},
        "Looking for the blue one in size M.",
    ),
    ("+14155550199", {"status": "new", "score": 10, "source": "sms", "campaign": "sunday-opening"}, ""),
]


def seed_persona() -> str | None:
    """Create the demo persona if it is not there, and make it the default if none is chosen."""
    created = None
    if persona_queries.get(PERSONA_ID) is None:
        created = persona_actions.create(PERSONA, user=None, persona_id=PERSONA_ID).name
    if agent_settings.persona_for(persona_queries.DEFAULT) is None:
        persona_actions.choose(persona_queries.DEFAULT, PERSONA_ID, user=None)
    return created


def seed_leads() -> int:
    """Qualify the demo contacts that exist and are not leads yet."""
    added = 0
    for phone, fields, note in LEADS:
        contact = find_live_by_phone(phone)
        if contact is None or lead_queries.for_contact(contact.contactId) is not None:
            continue
        lead_actions.save(contact.contactId, fields, expected_version=0, user=None, note=note or None)
        added += 1
    return added


class Command(BaseCommand):
    help = "The agent's demo persona and a few demo leads. Local stack only."

    def handle(self, *args, **options):
        if settings.ENVIRONMENT != "development":
            raise CommandError(f"seed_agent_demo only runs with ENVIRONMENT=development (it is {settings.ENVIRONMENT})")
        created = seed_persona()
        self.stdout.write(f"demo persona: {created or 'there already'}")
        self.stdout.write(f"demo leads added: {seed_leads()}")
