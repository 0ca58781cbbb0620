"""A customer who writes with a WhatsApp username (no number, a business-scoped user id instead)
in the inbox: their conversation lists and opens under that id with their profile name, consent
can be recorded, and a reply goes to the id (Meta's Messages API takes it as ``recipient``).
Also: a message the inbox cannot draw shows what WhatsApp sent, escaped."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.conf import settings

from messaging.inbound.process import process_inbound_event
from messaging.inbox import queries as inbox_queries
from messaging.models import Message
from messaging.outbound.senders.whatsapp import addressed_to
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaConversation, WaMessage, WaTemplate
from wecare.dynamo import now

pytestmark = pytest.mark.django_db


def new_user_id() -> str:
    return f"IN.{int(now().timestamp() * 1_000_000)}"


def username_message(user_id: str, text: str = "Where is my parcel?") -> dict:
    """Deliver a text whose sender has hidden their number (empty from and wa_id), as Meta's
    username rollout sends it; returns the message as sent."""
    body, _ = inbound("inbound_text", phone="+10000000000")
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": "Meera <i>K</i>", "username": "@meera"}, "wa_id": "", "user_id": user_id}]
    value["messages"][0].update({"from": "", "from_user_id": user_id, "text": {"body": text}})
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    process_inbound_event.apply(kwargs={"message": json.dumps(event)}, throw=True)
    return value["messages"][0]


@pytest.fixture
def conversation(fake_aws) -> WaConversation:
    user_id = new_user_id()
    sent = username_message(user_id)
    return WaConversation.get(
        WaMessage.get(WaMessage.key(sent["id"]), consistent_read=True).conversationPk, consistent_read=True
    )


def test_the_conversation_is_listed_and_opened_under_the_user_id_with_the_profile_name(
    client_for, operator, conversation
):
    user_id = inbox_queries.customer(conversation)
    page = client_for(operator)

    listing = page.get("/dm/", {"channel": "whatsapp"}).content.decode()
    opened = page.get(f"/dm/whatsapp~{inbox_queries.slug(conversation.pk)}/")

    assert user_id.startswith("IN.") and user_id in listing
    html = opened.content.decode()
    assert opened.status_code == 200 and user_id in html and "Where is my parcel?" in html
    assert "Meera &lt;i&gt;K&lt;/i&gt;" in html  # the profile name, escaped
    api = page.get("/api/inbox", {"number": settings.WHATSAPP_PHONE_NUMBER_IDS[0]}).json()
    [row] = [c for c in api["items"] if c["conversation"] == inbox_queries.slug(conversation.pk)]
    assert (row["customerPhone"], row["customerUserId"]) == (None, user_id)


def test_consent_then_a_reply_goes_to_the_user_id_as_recipient(
    settings, fake_aws_clean, client_for, operator, conversation
):
    settings.SEND_MODE = "LIVE"
    user_id = inbox_queries.customer(conversation)
    slug = inbox_queries.slug(conversation.pk)
    page = client_for(operator)

    assert page.post(f"/dm/whatsapp~{slug}/consent/", {"confirmed": "on", "note": "asked in chat"}).status_code in (
        200,
        302,
    )
    response = page.post(f"/dm/whatsapp~{slug}/reply/", {"kind": "text", "text": "It ships today", "action": "send"})

    assert response.status_code == 200, response.content.decode()[:2000]
    [sent] = [
        json.loads(base64.b64decode(c["params"]["message"]))
        for c in fake_aws_clean.calls("SendWhatsAppMessage")
        if b"It ships today" in base64.b64decode(c["params"]["message"])
    ]
    assert sent["recipient"] == user_id and "to" not in sent
    contact = inbox_queries.contact_for(conversation)
    [reply] = [m for m in Message.by_contact.query(contact.contactId) if m.direction == "outbound"]
    assert reply.status == "sent"
    outbound = WaMessage.get(WaMessage.key(reply.whatsappMessageId), consistent_read=True)
    assert outbound.conversationPk == conversation.pk  # the reply is in the same conversation


def test_a_number_is_addressed_in_to_and_a_user_id_in_recipient():
    assert addressed_to("+919812345678") == {"to": "919812345678"}
    assert addressed_to("US.13491208655302741918") == {"recipient": "US.13491208655302741918"}
    assert addressed_to("US.ENT.11815799212886844830") == {"recipient": "US.ENT.11815799212886844830"}


def test_a_message_the_inbox_cannot_draw_shows_what_whatsapp_sent_escaped(fake_aws, client_for, viewer, new_phone):
    body, _ = inbound("inbound_text", phone=new_phone())
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    odd = entry["changes"][0]["value"]["messages"][0]
    odd.update({"type": "hologram", "hologram": {"caption": "<script>alert(1)</script>"}})
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    process_inbound_event.apply(kwargs={"message": json.dumps(event)}, throw=True)
    item = WaMessage.get(WaMessage.key(odd["id"]), consistent_read=True)

    html = client_for(viewer).get(f"/dm/whatsapp~{inbox_queries.slug(item.conversationPk)}/").content.decode()

    assert "Unsupported message (hologram)" in html and "What WhatsApp sent" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)</script>" not in html


def approved(name: str, category: str) -> dict:
    """An approved template of this category in the catalog (as sync_templates stores one)."""
    at = now().isoformat()
    waba = "365731266123456"
    WaTemplate(
        pk=WaTemplate.key(waba, name, "en"),
        wabaId=waba,
        templateName=name,
        templateStatus="APPROVED",
        templateCategory=category,
        templateLanguage="en",
        components=[],
        receivedAt=at,
        cachedAt=at,
        syncedAt=at,
    ).save()
    return {"name": name, "language": "en", "parameters": {}}


def test_an_authentication_template_to_a_user_id_is_refused_by_the_gate_with_why(
    fake_aws_clean, client_for, operator, conversation
):
    slug = inbox_queries.slug(conversation.pk)
    api = client_for(operator)
    assert api.post(f"/dm/whatsapp~{slug}/consent/", {"confirmed": "on"}).status_code in (200, 302)
    code = f"otp_{uuid.uuid4().hex[:8]}"

    refused = api.post(
        f"/api/inbox/{slug}/reply", {"template": approved(code, "AUTHENTICATION")}, content_type="application/json"
    )
    allowed = api.post(
        f"/api/inbox/{slug}/reply", {"template": approved(f"update_{code}", "UTILITY")}, content_type="application/json"
    )

    assert refused.status_code == 422 and refused.json()["code"] == "PHONE_NUMBER_REQUIRED"
    assert "only to a phone number" in refused.json()["detail"]
    assert allowed.status_code == 202, allowed.content
