"""What becomes of a suggestion when its send does not simply succeed: a send that fails after its
message was written keeps its claim (marked outcome unknown, never sent twice), a claim records
only its own send's outcome, a composer send of a suggestion a colleague already sent asks first,
refusals are audited, and a stored template of the wrong shape is nothing sendable.
docs/design/agent.md, "Suggestions in the inbox"."""

from __future__ import annotations

import pytest

from ai.models import AIInteraction, Status
from ai.suggestions import actions, queries
from ai.tests.factories import DRAFT, interaction, whatsapp_conversation
from messaging.models import Message
from wecare.errors import Conflict
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db


def fresh(item: AIInteraction) -> AIInteraction:
    return AIInteraction.get(item.interactionId, consistent_read=True)


def audited(action: str, interaction_id: str) -> list[AuditLog]:
    return [e for e in AuditLog.scan(AuditLog.action == action) if e.resourceId == interaction_id]


def broker_down(monkeypatch) -> None:
    """The queue refuses the task after the message was written and audited: the one failure of the
    send path that leaves a message behind (no local stand-in fails this way on request)."""

    def refuse(*args, **kwargs):
        raise ConnectionError("broker timed out after accepting")

    monkeypatch.setattr("messaging.outbound.send.send_outbound.apply_async", refuse)


def test_a_panel_send_failing_after_the_write_is_never_sent_again_blindly(client_for, operator, new_phone, monkeypatch):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    broker_down(monkeypatch)
    with pytest.raises(ConnectionError):
        actions.send_as_drafted(item.interactionId, user=operator)
    monkeypatch.undo()
    assert Message.by_contact.count(contact.contactId) == 1
    with pytest.raises(Conflict, match="may have been sent"):
        actions.send_as_drafted(item.interactionId, user=operator)
    assert Message.by_contact.count(contact.contactId) == 1
    held = fresh(item)
    assert held.status == Status.USED and held.sentMessageId is None and actions.outcome_unknown(held)
    html = client_for(operator).get(f"/agent/suggestions/{key}/").content.decode()
    assert "data-outcome-unknown" in html and "may or may not have reached the customer" in html
    log = client_for(operator).get("/agent/", {"status": "used"}).content.decode()  # the Agent page's log says so
    assert "Outcome unknown: the send failed midway and may have reached the customer" in log


def test_a_crashing_composer_send_keeps_the_claim_marked_unknown_and_audits_no_send(
    client_for, operator, new_phone, monkeypatch
):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    user = client_for(operator)
    user.raise_request_exception = False
    broker_down(monkeypatch)
    reply = {"kind": "text", "text": DRAFT + " Thanks!", "origin": queries.origin_of(item), "action": "send"}
    assert user.post(f"/dm/{key}/reply/", reply).status_code == 500
    held = fresh(item)
    assert held.status == Status.EDITED and held.sentMessageId is None and actions.outcome_unknown(held)
    assert audited("ai.suggestion.send", item.interactionId) == []  # written only once the send is known
    assert "data-outcome-unknown" in user.get(f"/agent/suggestions/{key}/").content.decode()


def test_a_composer_send_is_audited_when_sent_and_a_refusal_as_blocked(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    reply = {"kind": "text", "text": DRAFT, "origin": queries.origin_of(item), "action": "send"}
    assert client_for(operator).post(f"/dm/{key}/reply/", reply).status_code == 200
    [entry] = audited("ai.suggestion.send", item.interactionId)
    assert entry.details["messageId"] == fresh(item).sentMessageId and entry.details["via"] == "composer"

    refused_contact, refused_key = whatsapp_conversation(operator, new_phone(), opted_in=False)
    other = interaction(refused_key, contact_id=refused_contact.contactId)
    reply = {"kind": "text", "text": "Open 9 to 6", "origin": queries.origin_of(other), "action": "send"}
    assert client_for(operator).post(f"/dm/{refused_key}/reply/", reply).status_code == 422
    [blocked] = audited("ai.suggestion.blocked", other.interactionId)
    assert blocked.details["code"] == "CONSENT_NEVER_GIVEN" and blocked.details["via"] == "composer"


def test_only_the_send_that_claimed_a_suggestion_records_its_outcome(operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    origin = queries.origin_of(item)
    actions.claim(item, sent_text=None, user=operator, claim_id="panel-send")  # A's panel Send, under way
    # B's composer send of the same text (it found the suggestion claimed, so claimed nothing):
    actions.composer_refused(key, origin, "consent withdrawn", "CONSENT_WITHDRAWN", operator, "composer-send")
    actions.composer_sent(key, origin, "msg-of-operator-b", operator, "composer-send")
    actions.composer_failed(key, origin, "ConnectionError", "composer-send")
    untouched = fresh(item)
    assert untouched.status == Status.USED and untouched.sentMessageId is None and untouched.statusReason is None
    assert actions.record_sent(untouched, "msg-of-operator-a", "panel-send")
    assert fresh(item).sentMessageId == "msg-of-operator-a"


def test_a_composer_send_of_a_suggestion_a_colleague_already_sent_asks_first(
    client_for, operator, admin_user, new_phone
):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    assert client_for(operator).post(f"/agent/suggestions/{key}/{item.interactionId}/use/").status_code == 204
    actions.send_as_drafted(item.interactionId, user=admin_user)  # a colleague's Send from the panel
    assert Message.by_contact.count(contact.contactId) == 1

    reply = {"kind": "text", "text": DRAFT, "origin": queries.origin_of(item), "action": "send"}
    asked = client_for(operator).post(f"/dm/{key}/reply/", reply)
    html = asked.content.decode()
    assert asked.status_code == 422 and "ada-admin already sent this suggestion; send anyway?" in html
    assert 'name="confirm"' in html and f'value="{queries.origin_of(item)}"' in html
    assert Message.by_contact.count(contact.contactId) == 1  # nothing went twice unasked

    confirmed = client_for(operator).post(f"/dm/{key}/reply/", {**reply, "confirm": "1"})
    assert confirmed.status_code == 200 and Message.by_contact.count(contact.contactId) == 2
    kept = fresh(item)  # still the colleague's send
    assert kept.status == Status.USED and kept.approvedBy == "ada-admin" and kept.sentMessageId


@pytest.mark.parametrize(
    "template",
    [
        ["welcome_message"],
        {"name": 5, "language": "en_US"},
        {"name": "welcome_message", "language": ["en_US"]},
        {"name": "welcome_message", "language": "en_US", "values": [1, 2]},
        {"name": "welcome_message", "language": "en_US", "values": "Asha"},
        {"name": "welcome_message", "language": "en_US", "parameters": {"body": "Asha"}},
    ],
)
def test_a_template_of_the_wrong_shape_is_nothing_sendable(client_for, operator, new_phone, template):
    contact, key = whatsapp_conversation(operator, new_phone(), window_open=False)
    item = interaction(key, contact_id=contact.contactId, kind="template", response=None, template=template)
    assert actions.sendable(item) is None
    user = client_for(operator)
    assert "No approved template fits" in user.get(f"/agent/suggestions/{key}/").content.decode()
    assert user.post(f"/agent/suggestions/{key}/{item.interactionId}/send/").status_code == 422
    assert fresh(item).status == Status.PENDING


def test_a_panel_send_refused_for_its_fields_is_blocked_and_audited(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone(), window_open=False)
    template = {"name": "no_such_template", "language": "en_US", "values": ["Asha"]}
    item = interaction(key, contact_id=contact.contactId, kind="template", response=None, template=template)
    assert client_for(operator).post(f"/agent/suggestions/{key}/{item.interactionId}/send/").status_code == 422
    assert fresh(item).status == Status.BLOCKED
    [entry] = audited("ai.suggestion.blocked", item.interactionId)
    assert entry.details["code"] == "FieldErrors"
