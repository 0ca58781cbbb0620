"""Personas: the admin's pages and API, versions kept on every edit, the choice per business number
and the persona the pipeline reads for a number (ai.personas.queries.active_for_number)."""

from __future__ import annotations

import pytest
from django.conf import settings
from ulid import ULID

from ai import agent_settings
from ai.personas import actions, queries
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Asha",
    "description": "Front desk",
    "status": "active",
    "systemPrompt": "You are Asha, who answers for the clinic.",
    "tone": "warm",
    "style": "short",
    "responseGuidelines": "Keep it short\nNever promise a price",
    "intents": "pricing | Prices | price, cost, How much\nbooking | Book a visit | book, appointment",
    "goals": "collect_name | First name | collect_info | critical",
    "companyName": "WECARE Clinic",
    "companyHours": "Mon-Fri 09:00-18:00",
}


@pytest.fixture(autouse=True)
def choices_put_back():
    """The AgentSettings item is one for the whole session: leave its persona choices as found."""
    before = agent_settings.current()
    chosen = before.personaByNumber.as_dict() if before.personaByNumber else {}
    yield
    after = agent_settings.current()
    if (after.personaByNumber.as_dict() if after.personaByNumber else {}) != chosen:
        for number in {*chosen, *(after.personaByNumber.as_dict() if after.personaByNumber else {})}:
            agent_settings.set_persona(number, chosen.get(number), user=None)


def audited(action: str, pk: str) -> list[AuditLog]:
    day = now().strftime("%Y-%m-%d")
    return [e for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == pk) if e.action == action]


def new_persona(**changes) -> str:
    data = {
        "name": f"Persona {ULID()}",
        "systemPrompt": "You answer for the clinic.",
        "intents": [{"id": "pricing", "name": "Prices", "triggers": ["price"]}],
        **changes,
    }
    return actions.create(data, user=None).personaId


def test_an_admin_creates_and_edits_a_persona_and_every_version_is_kept(client_for, admin_user):
    client = client_for(admin_user)
    response = client.post("/agent/personas/new/", FORM)
    assert response.status_code == 302
    persona_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    first = queries.get(persona_id)
    assert first is not None and first.version == 1 and first.current == "yes"
    assert first.intents[0] == {"id": "pricing", "name": "Prices", "triggers": ["price", "cost", "how much"]}
    assert first.goals == [{"id": "collect_name", "name": "First name", "type": "collect_info", "priority": "critical"}]
    assert first.companyInfo == {"name": "WECARE Clinic", "hours": "Mon-Fri 09:00-18:00"}
    assert audited("persona.create", persona_id)

    edit = client.get(f"/agent/personas/{persona_id}/edit/")
    assert edit.status_code == 200 and b"version 2" in edit.content
    response = client.post(f"/agent/personas/{persona_id}/edit/", {**FORM, "tone": "brisk", "version": "1"})
    assert response.status_code == 302
    newest, older = queries.versions(persona_id)
    assert (newest.version, newest.tone, newest.current) == (2, "brisk", "yes")
    assert (older.version, older.tone, older.current) == (1, "warm", None)
    assert [p.version for p in queries.listing() if p.personaId == persona_id] == [2]

    # A second admin still holding version 1's page is told, not silently overwritten.
    stale = client.post(f"/agent/personas/{persona_id}/edit/", {**FORM, "tone": "cold", "version": "1"})
    assert stale.status_code == 422 and b"changed since the page was shown" in stale.content
    assert queries.get(persona_id).tone == "brisk"
    # A post that does not say which version it edited is refused too, not applied to the newest.
    for version in ({}, {"version": ""}, {"version": "x"}):
        blind = client.post(f"/agent/personas/{persona_id}/edit/", {**FORM, "tone": "cold", **version})
        assert blind.status_code == 422 and b"reload the page and edit again" in blind.content, version
    assert (queries.get(persona_id).version, queries.get(persona_id).tone) == (2, "brisk")

    page = client.get(f"/agent/personas/{persona_id}/?version=1")
    assert b"an older version" in page.content and b"warm" in page.content


def test_a_wrong_persona_is_a_form_error_never_a_server_error(client_for, admin_user):
    response = client_for(admin_user).post(
        "/agent/personas/new/", {**FORM, "name": "", "goals": "g | Goal | collect_info | whenever"}
    )
    assert response.status_code == 422
    assert b'id="error-name"' in response.content
    response = client_for(admin_user).post("/agent/personas/new/", {**FORM, "goals": "g | Goal | collect_info | soon"})
    assert response.status_code == 422 and b'id="error-goals"' in response.content


def test_viewers_read_personas_and_only_admins_see_how_to_change_them(client_for, viewer):
    persona_id = new_persona(description="read me")
    client = client_for(viewer)
    listing = client.get("/agent/personas/")
    assert listing.status_code == 200 and persona_id.encode() in listing.content
    assert b"New persona" not in listing.content and b'name="persona"' not in listing.content
    detail = client.get(f"/agent/personas/{persona_id}/")
    assert detail.status_code == 200 and b"read me" in detail.content and b">Edit<" not in detail.content
    assert client.post(f"/agent/personas/{persona_id}/archive/", {"version": "1"}).status_code == 403


def test_the_number_answers_with_its_active_persona_else_the_default(client_for, admin_user):
    number = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    chosen, fallback = new_persona(), new_persona()
    client = client_for(admin_user)
    version = agent_settings.current().version
    client.post("/agent/personas/numbers/", {"number": number, "persona": chosen, "version": version})
    client.post("/agent/personas/numbers/", {"number": "default", "persona": fallback, "version": version + 1})
    assert queries.active_for_number(number).personaId == chosen
    assert queries.active_for_number(settings.WHATSAPP_PHONE_NUMBER_IDS[1]).personaId == fallback
    assert audited("agent.persona", "agent")

    client.post(f"/agent/personas/{chosen}/archive/", {"version": "1"})
    archived = queries.get(chosen)
    assert (archived.version, archived.status) == (2, "archived")
    assert queries.active_for_number(number).personaId == fallback  # archived answers for nobody

    # A stale page of choices is refused; an archived persona cannot be chosen.
    stale = client.post("/agent/personas/numbers/", {"number": number, "persona": fallback, "version": version})
    assert stale.status_code == 302 and queries.chosen_numbers(fallback) == ["default"]
    assert client.get("/agent/personas/").content.count(b"not answering") == 1
    with pytest.raises(Exception, match="active persona"):
        actions.choose(number, chosen, user=admin_user)

    agent_settings.set_persona("default", None, user=None)
    agent_settings.set_persona(number, None, user=None)
    assert queries.active_for_number(number) is None
    assert queries.get("no-such-persona") is None and queries.get(chosen, 9) is None


def test_the_api_creates_reads_versions_and_refuses_stale_or_wrong_edits(client_for, admin_user, viewer):
    client = client_for(admin_user)
    body = {"name": "Api persona", "systemPrompt": "Be kind.", "goals": [{"id": "g", "priority": "high"}]}
    created = client.post("/api/ai/personas", body, content_type="application/json")
    assert created.status_code == 201, created.content
    persona_id = created.json()["personaId"]
    edited = client.put(
        f"/api/ai/personas/{persona_id}", {**body, "tone": "calm", "expectedVersion": 1}, "application/json"
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    stale = client.put(f"/api/ai/personas/{persona_id}", {**body, "expectedVersion": 1}, "application/json")
    assert stale.status_code == 409
    wrong = client.put(
        f"/api/ai/personas/{persona_id}", {**body, "name": " ", "expectedVersion": 2}, "application/json"
    )
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get(f"/api/ai/personas/{persona_id}?version=1").json()["tone"] is None
    assert client.get("/api/ai/personas/nope").status_code == 404
    unknown = client.put("/api/ai/personas/numbers/not-a-number", {"personaId": persona_id}, "application/json")
    assert unknown.status_code == 422
    number = settings.WHATSAPP_PHONE_NUMBER_IDS[1]
    chosen = client.put(f"/api/ai/personas/numbers/{number}", {"personaId": persona_id}, "application/json")
    assert chosen.status_code == 200 and chosen.json()["personaByNumber"][number] == persona_id
    as_viewer = client_for(viewer)  # the same test client, now logged in as the viewer
    versions = as_viewer.get(f"/api/ai/personas/{persona_id}/versions").json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    refused = as_viewer.put(f"/api/ai/personas/numbers/{number}", {"personaId": None}, "application/json")
    assert refused.status_code == 403
