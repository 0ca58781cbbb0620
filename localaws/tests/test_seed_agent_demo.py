"""`manage.py seed_agent_demo`: the demo persona once, made the default only where no admin chose
one, demo contacts qualified as leads once; never outside development."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ai import agent_settings
from ai.leads import queries as lead_queries
from ai.personas import queries as persona_queries
from contacts import actions
from contacts.queries import find_live_by_phone
from localaws.management.commands import seed_agent_demo

pytestmark = pytest.mark.django_db


def test_it_adds_the_persona_and_the_leads_once_and_keeps_an_admins_choice(capsys):
    before = agent_settings.persona_for(persona_queries.DEFAULT)
    phone, fields, _ = seed_agent_demo.LEADS[1]
    contact = find_live_by_phone(phone) or actions.create_contact({"phone": phone}, user=None, source="test")
    try:
        agent_settings.set_persona(persona_queries.DEFAULT, None, user=None)
        call_command("seed_agent_demo")
        call_command("seed_agent_demo")
        persona = persona_queries.active_for_number("any-number")
        assert persona is not None and persona.personaId == seed_agent_demo.PERSONA_ID and persona.version == 1
        lead = lead_queries.for_contact(contact.contactId)
        assert lead is not None and lead.version == 1 and lead.status == fields["status"]
        out = capsys.readouterr().out
        assert "demo persona: there already" in out

        agent_settings.set_persona(persona_queries.DEFAULT, None, user=None)  # an admin cleared it:
        agent_settings.set_persona("any-number", seed_agent_demo.PERSONA_ID, user=None)
        assert seed_agent_demo.seed_persona() is None
        assert agent_settings.persona_for(persona_queries.DEFAULT) == seed_agent_demo.PERSONA_ID
    finally:
        agent_settings.set_persona("any-number", None, user=None)
        agent_settings.set_persona(persona_queries.DEFAULT, before, user=None)


def test_it_refuses_outside_development(settings):
    settings.ENVIRONMENT = "staging"
    with pytest.raises(CommandError, match="only runs with ENVIRONMENT=development"):
        call_command("seed_agent_demo")
