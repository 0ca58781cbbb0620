"""One customer, two WhatsApp identities: the number and the business-scoped user id (BSUID) Meta
sends for a customer with a username. A message that carries both links them on the contact, so
the customer stays one contact in one conversation whichever of the two WhatsApp sends later,
and the inbox replies from that conversation (docs/design/inbound.md, "One customer, one contact, one
conversation per business number").

Each sequence goes through ``process_inbound_event`` as the worker runs it, then consent and a
reply through the inbox, answered by the local fake of AWS End User Messaging Social."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from contacts import actions
from contacts.models import Contact, ContactUniqueKey
from messaging.inbound.process import process_inbound_event
from messaging.inbox import queries as inbox_queries
from messaging.models import Message
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db


def new_user_id() -> str:
    return f"IN.{int(now().timestamp() * 1_000_000)}"


def deliver(*, phone: str | None, user_id: str | None, text: str) -> WaMessage:
    """A text from a customer named by ``phone`` and/or ``user_id``, as Meta sends each case
    (a hidden number is an empty ``from``/``wa_id``), through the inbound worker; returns the
    recorded message."""
    body, _ = inbound("inbound_text", phone=phone or "+10000000000")
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    wa_id = phone.lstrip("+") if phone else ""
    value["contacts"] = [{"profile": {"name": "Meera K"}, "wa_id": wa_id, **({"user_id": user_id} if user_id else {})}]
    message = value["messages"][0]
    message.update({"from": wa_id, "text": {"body": text}})
    if user_id:
        message["from_user_id"] = user_id
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    process_inbound_event.apply(kwargs={"message": json.dumps(event)}, throw=True)
    return WaMessage.get(WaMessage.key(message["id"]), consistent_read=True)


def conversation_of(item: WaMessage) -> WaConversation:
    return WaConversation.get(item.conversationPk, consistent_read=True)


def has_conversation(pk: str) -> bool:
    try:
        WaConversation.get(pk, consistent_read=True)
    except WaConversation.DoesNotExist:
        return False
    return True


def consent_and_reply(client, conversation: WaConversation, text: str) -> Message:
    """An operator records the customer's consent in the conversation, then replies through the
    inbox API; returns the reply as sent."""
    slug = inbox_queries.slug(conversation.pk)
    assert client.post(f"/dm/whatsapp~{slug}/consent/", {"confirmed": "on", "note": "asked in chat"}).status_code in (
        200,
        302,
    )
    response = client.post(f"/api/inbox/{slug}/reply", {"text": text}, content_type="application/json")
    assert response.status_code == 202, response.content
    return Message.get(response.json()["messageId"], consistent_read=True)


def sent_to_meta(fake_aws, text: str) -> dict:
    [sent] = [
        body
        for call in fake_aws.calls("SendWhatsAppMessage")
        if text in json.dumps(body := json.loads(base64.b64decode(call["params"]["message"])))
    ]
    return sent


def links_audited(contact_id: str) -> list[AuditLog]:
    return [
        e
        for e in AuditLog.scan(AuditLog.resourceId == contact_id)
        if e.action == "contact.update" and (e.details or {}).get("source") == "whatsapp-inbound"
    ]


def test_a_contact_known_by_user_id_learns_the_number_and_stays_in_its_conversation(
    settings, fake_aws_clean, client_for, operator, new_phone
):
    """Case A: first a username (user id only), then the same customer with number and id."""
    settings.SEND_MODE = "LIVE"
    user_id, phone = new_user_id(), new_phone()
    first = deliver(phone=None, user_id=user_id, text="Hello, I hide my number")

    second = deliver(phone=phone, user_id=user_id, text="Now you see it")

    contact = Contact.get(first.contactId, consistent_read=True)
    assert second.contactId == contact.contactId
    assert (contact.phone, contact.whatsappUserId) == (phone, user_id)  # the number is stored
    assert ContactUniqueKey.get(ContactUniqueKey.for_phone(phone)).contactId == contact.contactId
    [linked] = links_audited(contact.contactId)
    assert linked.userId == "system" and linked.details["waMessageId"] == second.pk.removeprefix("MSG#")
    assert linked.details["changes"] == {"phone": {"from": None, "to": phone}}
    # One conversation: the one the customer started under the user id.
    assert second.conversationPk == first.conversationPk and first.conversationPk.endswith(f"#{user_id}")
    assert not has_conversation(first.conversationPk.replace(user_id, phone))
    conversation = conversation_of(second)
    assert int(conversation.unreadCount) == 2 and inbox_queries.contact_for(conversation).contactId == contact.contactId

    reply = consent_and_reply(client_for(operator), conversation, "Thanks, Meera")

    assert reply.status == "sent" and reply.contactId == contact.contactId
    assert sent_to_meta(fake_aws_clean, "Thanks, Meera")["to"] == phone.lstrip("+")  # a number is known now
    assert WaMessage.get(WaMessage.key(reply.whatsappMessageId), consistent_read=True).conversationPk == conversation.pk


def test_a_contact_known_by_number_learns_the_user_id_and_a_later_username_message_finds_it(
    settings, fake_aws_clean, client_for, operator, new_phone
):
    """Case B: first a number, then number and id, then the customer hides the number."""
    settings.SEND_MODE = "LIVE"
    user_id, phone = new_user_id(), new_phone()
    first = deliver(phone=phone, user_id=None, text="Hi from my number")
    second = deliver(phone=phone, user_id=user_id, text="Same me, with a user id")
    contact = Contact.get(first.contactId, consistent_read=True)
    assert (contact.phone, contact.whatsappUserId) == (phone, user_id)  # the id is stored
    assert ContactUniqueKey.get(ContactUniqueKey.for_whatsapp_user(user_id)).contactId == contact.contactId
    [linked] = links_audited(contact.contactId)
    assert linked.details["changes"] == {"whatsappUserId": {"from": None, "to": user_id}}

    hidden = deliver(phone=None, user_id=user_id, text="Now only my username")

    assert first.contactId == second.contactId == hidden.contactId  # no duplicate contact
    assert ContactUniqueKey.get(ContactUniqueKey.for_whatsapp_user(user_id)).contactId == contact.contactId
    assert hidden.conversationPk == first.conversationPk and first.conversationPk.endswith(f"#{phone}")
    assert not has_conversation(first.conversationPk.replace(phone, user_id))
    conversation = conversation_of(hidden)
    assert int(conversation.unreadCount) == 3 and inbox_queries.customer(conversation) == phone

    reply = consent_and_reply(client_for(operator), conversation, "Still here for you")

    assert reply.status == "sent" and reply.contactId == contact.contactId
    assert Contact.get(contact.contactId, consistent_read=True).optInWhatsApp is True
    assert sent_to_meta(fake_aws_clean, "Still here for you")["to"] == phone.lstrip("+")
    assert WaMessage.get(WaMessage.key(reply.whatsappMessageId), consistent_read=True).conversationPk == conversation.pk


def test_an_identity_held_by_another_contact_is_not_merged_and_the_message_stays_with_the_first_found(
    fake_aws, new_phone, caplog
):
    user_id, phone = new_user_id(), new_phone()
    by_number = actions.create_contact({"name": "Typed in", "phone": phone}, user=None, source="test")
    by_user_id = deliver(phone=None, user_id=user_id, text="A username customer")

    with caplog.at_level(logging.WARNING, logger="messaging.inbound.contacts"):
        both = deliver(phone=phone, user_id=user_id, text="Both, but they are two contacts here")

    assert both.contactId == by_number.contactId  # found first, by the number
    assert Contact.get(by_number.contactId, consistent_read=True).whatsappUserId is None
    assert ContactUniqueKey.get(ContactUniqueKey.for_whatsapp_user(user_id)).contactId == by_user_id.contactId
    assert Contact.get(by_user_id.contactId, consistent_read=True).phone is None
    [warning] = [r for r in caplog.records if r.getMessage() == "whatsapp identity not linked"]
    assert (warning.contact_id, warning.other_contact_id) == (by_number.contactId, by_user_id.contactId)
    assert both.conversationPk.endswith(f"#{phone}") and both.conversationPk != by_user_id.conversationPk
    assert inbox_queries.contact_for(conversation_of(both)).contactId == by_number.contactId


def test_the_inbox_finds_the_contact_by_the_other_identity_when_the_key_no_longer_names_it(
    fake_aws, client_for, operator, new_phone
):
    user_id, phone = new_user_id(), new_phone()
    deliver(phone=phone, user_id=None, text="Hello")
    item = deliver(phone=phone, user_id=user_id, text="Hello again")
    conversation = conversation_of(item)
    # A person corrects the contact's number: the conversation's key names it no longer.
    actions.update_contact(item.contactId, {"phone": new_phone()}, user=operator, source="test")

    assert inbox_queries.contact_for(conversation).contactId == item.contactId  # by its user id
    response = client_for(operator).post(
        f"/dm/whatsapp~{inbox_queries.slug(conversation.pk)}/consent/", {"confirmed": "on"}
    )
    assert response.status_code in (200, 302)
    assert Contact.get(item.contactId, consistent_read=True).optInWhatsApp is True
