"""Suggestions in the inbox (ai/suggestions/): the panel above the composer, Send through the one
send path (gate, DRY_RUN), claimed before the send so it goes once, Use -> edit -> send through
the composer recorded as edited with its diff, a refusal recorded as blocked, discard, rating,
viewers reading without acting, and /api/ai/suggestions. The pipeline that writes suggestions is
another part's: these tests write them as it does (ai/tests/factories.py)."""

from __future__ import annotations

import pytest
from django.conf import settings

from ai.models import AIInteraction, Status
from ai.suggestions import actions, queries
from ai.tests.factories import DRAFT, SOURCES, interaction, whatsapp_conversation
from messaging.models import Message
from messaging.outbound import template_catalog
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db


def fresh(item: AIInteraction) -> AIInteraction:
    return AIInteraction.get(item.interactionId, consistent_read=True)


def panel(client, key: str) -> str:
    response = client.get(f"/agent/suggestions/{key}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_shows_the_draft_its_sources_intent_and_flags_and_the_buttons(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    flag = {"code": "unsourced_amount", "detail": "The amount 499 is in no source."}
    s3 = {"title": "Price list", "uri": "s3://kb-bucket/prices.md", "score": 0.5}
    item = interaction(key, contact_id=contact.contactId, flags=[flag], sources=[*SOURCES, s3])
    html = panel(client_for(operator), key)
    assert DRAFT in html and "data-intent>opening_hours" in html
    assert 'href="https://example.com/kb/hours.md"' in html and "Opening hours" in html and "score 0.82" in html
    assert "s3://kb-bucket/prices.md" in html and 'href="s3://' not in html  # a web address only is a link
    assert 'data-flag="unsourced_amount"' in html and "The amount 499 is in no source." in html
    assert "data-ai-use" in html and "data-ai-send" in html and "data-ai-discard" in html
    assert f'data-origin="suggestion:{item.interactionId}"' in html
    # The inbox page carries the placeholder the panel is loaded into, on open and on new messages.
    page = client_for(operator).get(f"/dm/{key}/").content.decode()
    assert f'hx-get="/agent/suggestions/{key}/"' in page and "inbox:thread-changed" in page


def test_a_viewer_sees_the_suggestion_but_cannot_act_on_it(client_for, operator, viewer, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    html = panel(client_for(viewer), key)
    assert DRAFT in html and "data-ai-send" not in html and "data-ai-use" not in html and "ai-rate" not in html
    # (The access sweep checks each API operation's role, wecare/tests/test_access_sweep.py.)
    for action in ("send", "discard", "rate", "use"):
        assert client_for(viewer).post(f"/agent/suggestions/{key}/{item.interactionId}/{action}/").status_code == 403
    assert fresh(item).status == Status.PENDING and Message.by_contact.count(contact.contactId) == 0


def test_while_drafting_the_panel_says_so_and_polls_itself_and_skipped_ones_draw_nothing(
    client_for, operator, new_phone
):
    contact, key = whatsapp_conversation(operator, new_phone())
    interaction(key, contact_id=contact.contactId, status=Status.GENERATING, response=None)
    html = panel(client_for(operator), key)
    assert "Drafting a reply…" in html and 'hx-trigger="every 2s"' in html and "data-ai-send" not in html
    # Its own poll is answered 204 (nothing redrawn) while the draft is still being written.
    assert client_for(operator).get(f"/agent/suggestions/{key}/?seen=generating").status_code == 204
    _, other = whatsapp_conversation(operator, new_phone())
    interaction(other, status=Status.SKIPPED, statusReason="not_text")
    assert panel(client_for(operator), other) == ""
    interaction(other, status=Status.SUPERSEDED, statusReason="newer_message")
    assert "Set aside: the customer wrote again." in panel(client_for(operator), other)


def test_send_goes_through_the_gate_once_and_in_dry_run_is_recorded_not_sent(
    client_for, operator, new_phone, fake_aws_clean
):
    assert settings.SEND_MODE == "DRY_RUN"
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    response = client_for(operator).post(f"/agent/suggestions/{key}/{item.interactionId}/send/")
    assert response.status_code == 200 and response["HX-Trigger"] == "message-sent"
    assert "Sent as drafted" in response.content.decode()
    [message] = list(Message.by_contact.query(contact.contactId))
    assert message.content["text"] == DRAFT and message.dryRun and message.createdBy == operator.username
    assert fake_aws_clean.calls("SendWhatsAppMessage") == []  # DRY_RUN: nothing left the platform
    done = fresh(item)
    assert (
        done.status == Status.USED and done.sentMessageId == message.messageId and done.approvedBy == operator.username
    )
    [entry] = [e for e in AuditLog.scan(AuditLog.action == "message.send") if e.resourceId == message.messageId]
    assert entry.details["source"] == "ai_suggestion"
    # A second Send (another operator, a double click) finds it done: nothing goes twice.
    again = client_for(operator).post(f"/agent/suggestions/{key}/{item.interactionId}/send/")
    assert again.status_code == 409 and "already sent" in again.content.decode()
    assert Message.by_contact.count(contact.contactId) == 1


def test_a_refused_send_is_blocked_with_the_gates_reason(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone(), opted_in=False)
    item = interaction(key, contact_id=contact.contactId)
    response = client_for(operator).post(f"/agent/suggestions/{key}/{item.interactionId}/send/")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-code="CONSENT_NEVER_GIVEN"' in html and "data-blocked" in html
    blocked = fresh(item)
    assert blocked.status == Status.BLOCKED and blocked.statusReason and blocked.sentMessageId is None
    assert Message.by_contact.count(contact.contactId) == 0


def test_a_template_suggestion_sends_the_template_with_its_values(client_for, operator, new_phone, fake_aws_clean):
    template_catalog.sync_templates()
    contact, key = whatsapp_conversation(operator, new_phone(), window_open=False)
    item = interaction(
        key,
        contact_id=contact.contactId,
        kind="template",
        response=None,
        template={"name": "welcome_message", "language": "en_US", "values": ["Asha", "WECARE"]},
    )
    html = panel(client_for(operator), key)
    assert "Template welcome_message" in html and "Asha" in html and "data-ai-use" not in html
    assert client_for(operator).post(f"/agent/suggestions/{key}/{item.interactionId}/send/").status_code == 200
    [message] = list(Message.by_contact.query(contact.contactId))
    assert message.content["template"]["name"] == "welcome_message"
    assert message.content["template"]["parameters"]["body"] == ["Asha", "WECARE"]
    assert fresh(item).status == Status.USED


def test_use_then_an_edited_send_from_the_composer_is_recorded_as_edited_with_its_diff(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    user = client_for(operator)
    assert user.post(f"/agent/suggestions/{key}/{item.interactionId}/use/").status_code == 204
    edited = DRAFT.replace("6 pm", "7 pm")
    origin = queries.origin_of(item)
    sent = user.post(f"/dm/{key}/reply/", {"kind": "text", "text": edited, "origin": origin, "action": "send"})
    assert sent.status_code == 200
    [message] = list(Message.by_contact.query(contact.contactId))
    done = fresh(item)
    assert done.status == Status.EDITED and done.sentText == edited and done.sentMessageId == message.messageId
    assert "-Hello! Our store opens at 9 am and closes at 6 pm" in done.edit and "+Hello!" in done.edit
    assert 0 < done.editRatio < 0.2
    assert "Sent after editing" in panel(user, key)


def test_a_composer_send_identical_to_the_draft_is_used_and_one_refused_is_blocked(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    reply = {"kind": "text", "text": DRAFT, "origin": queries.origin_of(item), "action": "send"}
    assert client_for(operator).post(f"/dm/{key}/reply/", reply).status_code == 200
    assert fresh(item).status == Status.USED and fresh(item).edit is None

    refused_contact, refused_key = whatsapp_conversation(operator, new_phone(), opted_in=False)
    other = interaction(refused_key, contact_id=refused_contact.contactId)
    reply = {"kind": "text", "text": "Open 9 to 6", "origin": queries.origin_of(other), "action": "send"}
    assert client_for(operator).post(f"/dm/{refused_key}/reply/", reply).status_code == 422
    assert fresh(other).status == Status.BLOCKED and fresh(other).statusReason
    # An origin naming another conversation's suggestion is not this reply's: left alone; nor is
    # a template picked in the composer after Use (no text of the draft's was sent).
    third = interaction(refused_key, contact_id=refused_contact.contactId)
    actions.composer_sending(key, queries.origin_of(third), "Open 9 to 6", operator, "attempt-1")
    actions.composer_sending(refused_key, queries.origin_of(third), "", operator, "attempt-2")
    assert fresh(third).status == Status.PENDING


def test_discard_and_rate(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    user = client_for(operator)
    html = user.post(f"/agent/suggestions/{key}/{item.interactionId}/discard/").content.decode()
    assert "Discarded by" in html and fresh(item).status == Status.DISCARDED
    assert user.post(f"/agent/suggestions/{key}/{item.interactionId}/send/").status_code == 409
    rated = user.post(
        f"/agent/suggestions/{key}/{item.interactionId}/rate/",
        {"rating": "not_helpful", "reason": "outdated", "note": "We changed the hours"},
    )
    assert rated.status_code == 200 and 'data-rated="not_helpful"' in rated.content.decode()
    done = fresh(item)
    assert (done.rating, done.ratingReason, done.ratingNote, done.ratedBy) == (
        "not_helpful",
        "outdated",
        "We changed the hours",
        operator.username,
    )
    bad = user.post(f"/agent/suggestions/{key}/{item.interactionId}/rate/", {"rating": "not_helpful", "reason": "meh"})
    assert bad.status_code == 422 and "reason" in bad.content.decode()
    # "Helpful" carries no reason even when one was picked in the form and left.
    user.post(f"/agent/suggestions/{key}/{item.interactionId}/rate/", {"rating": "helpful", "reason": "tone"})
    assert (fresh(item).rating, fresh(item).ratingReason) == ("helpful", None)


def test_the_api_lists_a_conversations_suggestions_and_acts_on_one(client_for, operator, new_phone):
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)
    user = client_for(operator)
    listed = user.get("/api/ai/suggestions", {"conversation": key}).json()
    # An empty key is the caller's mistake (422 naming the parameter), never a failed query (5xx).
    empty = user.get("/api/ai/suggestions", {"conversation": ""})
    assert empty.status_code == 422 and "conversation" in empty.content.decode()
    assert [s["interactionId"] for s in listed["items"]] == [item.interactionId]
    assert listed["items"][0]["sources"][0]["score"] == 0.82
    rated = user.post(
        f"/api/ai/suggestions/{item.interactionId}/rate", {"rating": "helpful"}, content_type="application/json"
    )
    assert rated.status_code == 200 and rated.json()["rating"] == "helpful"
    assert user.post(f"/api/ai/suggestions/{item.interactionId}/use").status_code == 200
    sent = user.post(f"/api/ai/suggestions/{item.interactionId}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "used" and sent.json()["sentMessageId"]
    assert user.post(f"/api/ai/suggestions/{item.interactionId}/discard").status_code == 409
    assert user.post("/api/ai/suggestions/nope/send").status_code == 404


def test_edit_of_measures_how_much_changed():
    assert actions.edit_of("same", "same") == ("", 0.0)
    diff, ratio = actions.edit_of("We open at 9.", "We open at 10 on Sundays.")
    assert diff.startswith("--- draft\n+++ sent") and 0 < ratio < 1


def test_a_send_that_fails_midway_keeps_the_claim_and_says_the_outcome_is_unknown(operator, new_phone, monkeypatch):
    # The send path raising anything but a refusal may come after its message was written, so
    # the suggestion is not released to pending (a second Send could reach the customer twice).
    contact, key = whatsapp_conversation(operator, new_phone())
    item = interaction(key, contact_id=contact.contactId)

    def unreachable(*args, **kwargs):
        raise ConnectionError("DynamoDB unreachable")  # no local stand-in fails this way on request

    monkeypatch.setattr("ai.suggestions.actions.send.send_message", unreachable)
    with pytest.raises(ConnectionError):
        actions.send_as_drafted(item.interactionId, user=operator)
    again = fresh(item)
    assert again.status == Status.USED and again.approvedBy == operator.username and again.sentMessageId is None
    assert actions.outcome_unknown(again) and "ConnectionError" in again.statusReason
