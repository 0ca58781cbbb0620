"""Leads: an operator qualifies a contact on the version they saw, adds notes, and accepts or
dismisses the lead change a suggestion proposed, from the inbox's contact pane; the Leads list by
status with cursor paging; the API."""

from __future__ import annotations

import pytest
from ulid import ULID

from ai.leads import actions, queries
from ai.models import AIInteraction
from contacts.actions import create_contact
from messaging.conversation_index import key_for_whatsapp
from messaging.tests.inbox_data import conversation
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db


def audited(action: str, pk: str) -> list[AuditLog]:
    day = now().strftime("%Y-%m-%d")
    return [e for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == pk) if e.action == action]


@pytest.fixture
def contact(new_phone):
    return create_contact({"name": "Lena Lead", "phone": new_phone()}, user=None, source="test")


def suggestion(conv_key: str, contact_id: str, proposal: dict) -> AIInteraction:
    at = now()
    item = AIInteraction(
        interactionId=f"test-{ULID()}",
        messageId=f"wamid.{ULID()}",
        conversation=conv_key,
        contactId=contact_id,
        createdAt=at.isoformat(),
        day=at.strftime("%Y-%m-%d"),
        status="pending",
        intent="pricing",
        leadProposal=proposal,
    )
    item.save()
    return item


def test_an_operator_qualifies_a_contact_on_the_version_they_saw(client_for, operator, contact):
    client = client_for(operator)
    page = client.get(f"/agent/leads/{contact.contactId}/")
    assert page.status_code == 200 and b"Not a lead yet" in page.content
    form = {"status": "contacted", "score": "40", "interest": "0.5", "urgency": "", "source": "whatsapp"}
    form["version"] = "0"
    response = client.post(f"/agent/leads/{contact.contactId}/save/", {**form, "note": "Asked about prices"})
    assert response.status_code == 302
    lead = queries.for_contact(contact.contactId)
    assert (lead.status, lead.score, lead.interest, lead.urgency, lead.version) == ("contacted", 40, 0.5, None, 1)
    assert lead.notes[0]["text"] == "Asked about prices" and lead.notes[0]["by"] == operator.username
    assert audited("lead.update", contact.contactId)

    # Someone holding the page from before that save is told, not silently overwritten.
    stale = client.post(f"/agent/leads/{contact.contactId}/save/", {**form, "status": "customer"})
    assert stale.status_code == 422 and b"changed since the page was shown" in stale.content
    wrong = client.post(f"/agent/leads/{contact.contactId}/save/", {**form, "score": "120", "version": "1"})
    assert wrong.status_code == 422 and b'id="error-score"' in wrong.content
    assert queries.for_contact(contact.contactId).status == "contacted"

    client.post(f"/agent/leads/{contact.contactId}/notes/", {"note": "Call back Monday"})
    lead = queries.for_contact(contact.contactId)
    assert [n["text"] for n in lead.notes] == ["Asked about prices", "Call back Monday"] and lead.version == 2
    listing = client.get("/agent/leads/?status=contacted")
    assert listing.status_code == 200 and b"Lena Lead" in listing.content
    assert client.get("/agent/leads/?status=nonsense").status_code == 400
    assert client.get("/agent/leads/?status=new&cursor=forged").status_code == 302


def test_viewers_read_leads_but_cannot_change_them(client_for, viewer, contact):
    actions.save(contact.contactId, {"status": "qualified"}, expected_version=0, user=None)
    client = client_for(viewer)
    page = client.get(f"/agent/leads/{contact.contactId}/")
    assert page.status_code == 200 and b"qualified" in page.content and b"Add note" not in page.content
    response = client.post(f"/agent/leads/{contact.contactId}/save/", {"status": "customer", "version": "1"})
    assert response.status_code == 403


def test_the_contact_pane_shows_the_lead_and_an_operator_accepts_the_proposal(client_for, operator, viewer, contact):
    conv = conversation(contact.phone)
    key = key_for_whatsapp(conv.pk)
    actions.save(contact.contactId, {"status": "new", "score": 10}, expected_version=0, user=None)
    proposed = suggestion(key, contact.contactId, {"status": "contacted", "interest": 0.8, "note": "Wants prices"})

    seen = client_for(viewer).get(f"/agent/leads/panel/{key}/")
    assert seen.status_code == 200 and b"Suggested change" in seen.content and b">Accept<" not in seen.content
    client = client_for(operator)
    panel = client.get(f"/agent/leads/panel/{key}/").content.decode()
    assert "new → <strong>contacted</strong>" in panel and ">Accept<" in panel and "Wants prices" in panel

    url = f"/agent/leads/panel/{key}/proposals/{proposed.interactionId}"
    htmx = {"HTTP_HX_REQUEST": "true"}  # the panel's buttons post through htmx and get the panel back
    accepted = client.post(f"{url}/accept/", **htmx)
    assert accepted.status_code == 200 and b"Suggested change" not in accepted.content
    lead = queries.for_contact(contact.contactId)
    assert (lead.status, lead.score, lead.interest, lead.notes[-1]["text"]) == ("contacted", 10, 0.8, "Wants prices")
    decided = AIInteraction.get(proposed.interactionId)
    assert (decided.leadProposalState, decided.leadProposalBy) == ("accepted", operator.username)
    again = client.post(f"{url}/dismiss/", **htmx)
    assert again.status_code == 409 and b"already accepted" in again.content
    without_script = client.post(f"{url}/dismiss/")
    assert without_script.status_code == 302 and without_script["Location"].startswith("/dm/")
    assert audited("lead.proposal.accept", contact.contactId)

    older = suggestion(key, contact.contactId, {"status": "qualified"})
    newer = suggestion(key, contact.contactId, {"status": "customer"})
    assert queries.pending_proposal(key).interactionId == newer.interactionId
    client.post(f"/agent/leads/panel/{key}/proposals/{newer.interactionId}/dismiss/")
    assert AIInteraction.get(newer.interactionId).leadProposalState == "dismissed"
    assert queries.for_contact(contact.contactId).status == "contacted"
    # The older proposal, worked out before the newer message, is not offered once that is decided.
    assert queries.pending_proposal(key) is None and older.leadProposalState is None


def test_a_conversation_without_a_contact_has_nothing_to_qualify(client_for, viewer, new_phone):
    conv = conversation(new_phone())
    response = client_for(viewer).get(f"/agent/leads/panel/{key_for_whatsapp(conv.pk)}/")
    assert response.status_code == 200 and b"No contact" in response.content
    assert client_for(viewer).get("/agent/leads/panel/whatsapp~nope~nobody/").status_code == 404


def test_the_api_pages_leads_by_status_and_guards_versions_and_proposals(client_for, operator, new_phone):
    client = client_for(operator)
    campaign = f"c-{ULID()}"
    ids = []
    for name in ("Ann", "Ben"):
        person = create_contact({"name": name, "phone": new_phone()}, user=None, source="test")
        ids.append(person.contactId)
        body = {"status": "unqualified", "score": 5, "campaign": campaign, "expectedVersion": 0}
        saved = client.put(f"/api/ai/leads/{person.contactId}", body, "application/json")
        assert saved.status_code == 200 and saved.json()["version"] == 1
    first = client.get("/api/ai/leads?status=unqualified&limit=1").json()
    assert len(first["items"]) == 1 and first["nextCursor"]
    second = client.get(f"/api/ai/leads?status=unqualified&limit=1&cursor={first['nextCursor']}").json()
    assert second["items"][0]["contactId"] != first["items"][0]["contactId"]
    assert client.get("/api/ai/leads?status=new&cursor=forged").status_code == 422
    assert client.get("/api/ai/leads?status=hot").status_code == 422

    stale = client.put(f"/api/ai/leads/{ids[0]}", {"status": "customer", "expectedVersion": 0}, "application/json")
    assert stale.status_code == 409
    bad = client.put(f"/api/ai/leads/{ids[0]}", {"urgency": 2, "expectedVersion": 1}, "application/json")
    assert bad.status_code == 422
    noted = client.post(f"/api/ai/leads/{ids[0]}/notes", {"text": "Prefers email"}, "application/json")
    assert noted.status_code == 200 and noted.json()["notes"][-1]["text"] == "Prefers email"
    assert client.get(f"/api/ai/leads/{ULID()}").status_code == 404
    assert client.put(f"/api/ai/leads/{ULID()}", {"expectedVersion": 0}, "application/json").status_code == 404

    proposal = suggestion("whatsapp~x~y", ids[1], {"status": "qualified", "score": 70})
    accepted = client.post(f"/api/ai/leads/proposals/{proposal.interactionId}/accept")
    assert accepted.status_code == 200 and (accepted.json()["status"], accepted.json()["score"]) == ("qualified", 70)
    assert client.post(f"/api/ai/leads/proposals/{proposal.interactionId}/accept").status_code == 409
    assert client.post(f"/api/ai/leads/proposals/{ULID()}/dismiss").status_code == 404
    wrong = suggestion("whatsapp~x~y", ids[1], {"score": 500})
    assert client.post(f"/api/ai/leads/proposals/{wrong.interactionId}/accept").status_code == 422
    assert AIInteraction.get(wrong.interactionId).leadProposalState is None


def test_a_proposal_is_decided_only_from_its_own_conversation(client_for, operator, contact, new_phone):
    key = key_for_whatsapp(conversation(contact.phone).pk)
    other_key = key_for_whatsapp(conversation(new_phone()).pk)
    proposed = suggestion(key, contact.contactId, {"status": "qualified"})
    client = client_for(operator)
    for decision in ("dismiss", "accept"):
        forged = client.post(f"/agent/leads/panel/{other_key}/proposals/{proposed.interactionId}/{decision}/")
        assert forged.status_code == 404
    assert AIInteraction.get(proposed.interactionId).leadProposalState is None
    assert queries.for_contact(contact.contactId) is None
    own = client.post(f"/agent/leads/panel/{key}/proposals/{proposed.interactionId}/dismiss/")
    assert own.status_code == 302 and AIInteraction.get(proposed.interactionId).leadProposalState == "dismissed"


WRONG_SHAPES = [
    {"status": ["x"]},
    {"status": {"a": 1}},
    {"status": "qualified", "score": "abc"},
    {"status": "qualified", "score": "1e999"},
    {"score": 40.5},
    {"score": True},
    {"interest": "0.5"},
    {"urgency": [0.5]},
    {"status": "qualified", "note": ["a", "b"]},
    {"source": 7},
]


def test_a_proposal_of_the_wrong_shape_is_no_proposal(client_for, operator, contact):
    key = key_for_whatsapp(conversation(contact.phone).pk)
    client = client_for(operator)
    for proposal in WRONG_SHAPES:  # one loop, not a parametrised test: each newer one is the pending one
        proposed = suggestion(key, contact.contactId, proposal)
        panel = client.get(f"/agent/leads/panel/{key}/")
        assert panel.status_code == 200 and b"Suggested change" not in panel.content, proposal
        accepted = client.post(f"/api/ai/leads/proposals/{proposed.interactionId}/accept")
        assert accepted.status_code == 422 and accepted.json(), proposal  # with the reason, by field
        assert AIInteraction.get(proposed.interactionId).leadProposalState is None
    assert queries.for_contact(contact.contactId) is None
