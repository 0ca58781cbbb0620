"""Inbound messages end to end through ``messaging.process_inbound_event`` (eager, as the tests
run Celery): what is recorded, for whom, and that a duplicate — one after another, eight at
once, or a day later — changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from celery.signals import task_prerun

from contacts import actions
from contacts.models import Contact
from messaging.inbound.process import process_inbound_event
from messaging.models import Message
from messaging.tests.inbound_samples import INBOUND, inbound
from messaging.whatsapp_table import WaConversation, WaIdempotency, WaMessage
from wecare.dynamo import now
from wecare.tests.at_once import at_once

pytestmark = pytest.mark.django_db
SUFFIX = "baa217c3f11b4ffd956f6f3afb44ce54"
NUMBER = f"phone-number-id-{SUFFIX}"


@pytest.fixture
def autoreplies():
    """The events handed to messaging.after_inbound (observed as Celery runs the task)."""
    seen: list[dict] = []

    def record(sender=None, args=None, **_):
        if sender is not None and sender.name == "messaging.after_inbound":
            seen.append(args[0])

    task_prerun.connect(record, weak=False)
    yield seen
    task_prerun.disconnect(record)


def deliver(body: str) -> dict:
    return process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-test"}, throw=True).result


def deliver_at_once(body: str, copies: int) -> list[dict]:
    return at_once(*[partial(deliver, body)] * copies)


def wa(wamid: str) -> WaMessage:
    return WaMessage.get(WaMessage.key(wamid), consistent_read=True)


def conversation(phone: str) -> WaConversation:
    return WaConversation.get(f"CONV#{SUFFIX}#{phone}", consistent_read=True)


def messages_of(contact_id: str) -> list[Message]:
    return list(Message.by_contact.query(contact_id))


def contact_for(phone: str) -> Contact:
    [contact] = [c for c in Contact.by_phone.query(phone) if not c.is_deleted]
    return contact


@pytest.mark.parametrize("name", INBOUND)
def test_each_sample_is_recorded_once_with_its_message_its_conversation_and_its_idempotency_key(
    name, fake_aws, new_phone
):
    phone = new_phone()
    body, sent = inbound(name, phone=phone)
    assert deliver(body)["recorded"] == 1

    item = wa(sent["id"])
    assert (item.direction, item.type, item.from_, item.to) == ("INBOUND", sent["type"], phone, "+919876500001")
    assert (item.originationPhoneNumberId, item.wabaMetaId, item.senderName) == (NUMBER, "365731266123456", "Asha Rao")
    assert item.conversationPk == f"CONV#{SUFFIX}#{phone}" and item.receivedAt and item.waTimestamp == sent["timestamp"]
    assert item.inboxPk is None  # the inbox GSI lists conversations only
    contact = contact_for(phone)
    [message] = messages_of(contact.contactId)
    assert (message.messageId, message.contactId) == (item.messageId, item.contactId)
    assert (message.channel, message.direction, message.status, message.whatsappMessageId) == (
        "whatsapp",
        "inbound",
        "received",
        sent["id"],
    )
    assert message.content["type"] == sent["type"] and message.content["payload"] == sent
    conv = conversation(phone)
    assert (conv.inboxPk, conv.unreadCount, conv.archived, conv.lastMessageId, conv.lastType) == (
        NUMBER,
        1,
        False,
        sent["id"],
        sent["type"],
    )
    assert conv.lastPreview == item.preview and conv.receivedAt == item.receivedAt
    key = WaIdempotency.get(WaIdempotency.key(sent["id"]), consistent_read=True)
    assert key.eventType == "message" and timedelta(days=6) < key.ttl - now() <= timedelta(days=7)


def test_the_text_and_the_reply_title_are_the_messages_text(fake_aws, new_phone):
    phone = new_phone()
    body, sent = inbound("inbound_text", phone=phone)
    deliver(body)
    assert wa(sent["id"]).textBody == "Hi, is my order ready? 🙏"
    body, sent = inbound("inbound_interactive_list_reply", phone=phone)
    deliver(body)
    assert wa(sent["id"]).textBody == "Pay a bill"


def test_a_new_number_becomes_a_contact_with_no_consent_and_an_open_window(fake_aws, new_phone, autoreplies):
    phone = new_phone()
    body, sent = inbound("inbound_text", phone=phone, name_on_profile="Meera Iyer")
    deliver(body)
    contact = contact_for(phone)
    assert contact.name == "Meera Iyer"
    assert (contact.optInWhatsApp, contact.optInSms, contact.optInEmail) == (False, False, False)
    assert contact.consentWhatsApp is None  # writing to us is not consent to be written to
    assert contact.lastInboundMessageAt == datetime.fromtimestamp(int(sent["timestamp"]), tz=UTC)
    assert contact.whatsapp_window_expires_at() is not None
    [event] = autoreplies
    assert event == {
        "contactId": contact.contactId,
        "customerPhone": phone,
        "phoneNumberId": NUMBER,
        "conversationPk": f"CONV#{SUFFIX}#{phone}",
        "waMessageId": sent["id"],
        "messageType": "text",
        "text": "Hi, is my order ready? 🙏",
        "isNewContact": True,
        "isFirstMessage": True,
        "receivedAt": wa(sent["id"]).receivedAt,
    }
    deliver(inbound("inbound_text", phone=phone)[0])
    assert (autoreplies[1]["isNewContact"], autoreplies[1]["isFirstMessage"]) == (False, False)


def test_a_known_contact_keeps_their_consent_and_name(fake_aws, operator, new_phone):
    phone = new_phone()
    known = actions.create_contact(
        {"phone": phone, "name": "Known Person", "optInWhatsApp": True}, user=operator, source="test"
    )
    deliver(inbound("inbound_text", phone=phone, name_on_profile="Profile Name")[0])
    contact = contact_for(phone)
    assert contact.contactId == known.contactId
    assert (contact.name, contact.optInWhatsApp, contact.consentWhatsApp.source) == ("Known Person", True, "test")


def test_the_window_only_moves_forward(fake_aws, new_phone):
    phone = new_phone()
    recent = int(now().timestamp())
    deliver(inbound("inbound_text", phone=phone, at=recent)[0])
    deliver(inbound("inbound_text", phone=phone, at=recent - 3600)[0])  # an older message, delivered late
    assert contact_for(phone).lastInboundMessageAt == datetime.fromtimestamp(recent, tz=UTC)
    conv = conversation(phone)
    assert conv.unreadCount == 2  # still a message the team has not read


def test_the_same_event_twice_is_one_message_and_one_unread(fake_aws, new_phone, autoreplies):
    phone = new_phone()
    body, sent = inbound("inbound_text", phone=phone)
    first, second = deliver(body), deliver(body)
    assert (first["recorded"], second["recorded"], second["duplicates"]) == (1, 0, 1)
    assert len(messages_of(contact_for(phone).contactId)) == 1
    assert conversation(phone).unreadCount == 1
    assert [e["waMessageId"] for e in autoreplies] == [sent["id"]]


def test_eight_deliveries_at_once_are_one_message_and_one_unread(fake_aws, new_phone, autoreplies):
    phone = new_phone()
    body, sent = inbound("inbound_text", phone=phone)
    results = deliver_at_once(body, 8)
    assert sorted(r["recorded"] for r in results) == [0] * 7 + [1]
    assert len(messages_of(contact_for(phone).contactId)) == 1
    assert conversation(phone).unreadCount == 1
    # A duplicate arriving while the first delivery is still handing on may hand on too (the
    # hand-off is marked done only after it happened, so a failure cannot lose it); the
    # auto-reply's own cooldown marker makes that one welcome: test_autoreply_end_to_end.py.
    assert autoreplies and {e["waMessageId"] for e in autoreplies} == {sent["id"]}
    assert wa(sent["id"]).followUpDispatchedAt


@pytest.mark.parametrize("name", INBOUND)
def test_each_sample_delivered_twice_at_once_is_one_message(name, fake_aws, new_phone):
    phone = new_phone()
    body, sent = inbound(name, phone=phone)
    results = deliver_at_once(body, 2)
    assert sorted(r["recorded"] for r in results) == [0, 1]
    [message] = messages_of(contact_for(phone).contactId)
    assert message.whatsappMessageId == sent["id"]
    assert conversation(phone).unreadCount == 1


def test_a_redelivery_a_day_later_changes_nothing_even_after_the_idempotency_key_expired(fake_aws, new_phone):
    phone = new_phone()
    body, sent = inbound("inbound_text", phone=phone)
    deliver(body)
    before = wa(sent["id"])
    # A day later: the idempotency item is a day old...
    key = WaIdempotency.get(WaIdempotency.key(sent["id"]), consistent_read=True)
    key.update(actions=[WaIdempotency.processedAt.set((now() - timedelta(days=1)).isoformat())])
    assert deliver(body)["duplicates"] == 1
    # ...and past its TTL (DynamoDB deletes it; moto never does, so the test does): the MSG#
    # item's own condition still stops the duplicate.
    key.delete()
    assert deliver(body)["duplicates"] == 1
    assert len(messages_of(contact_for(phone).contactId)) == 1
    assert conversation(phone).unreadCount == 1
    assert wa(sent["id"]).receivedAt == before.receivedAt


def test_an_archived_conversation_comes_back_to_the_inbox_with_a_new_message(fake_aws, new_phone):
    phone = new_phone()
    deliver(inbound("inbound_text", phone=phone)[0])
    conversation(phone).update(actions=[WaConversation.archived.set(True), WaConversation.unreadCount.set(0)])
    body, sent = inbound("inbound_image", phone=phone)
    deliver(body)
    conv = conversation(phone)
    assert (conv.archived, conv.unreadCount, conv.lastMessageId) == (False, 1, sent["id"])


def test_two_first_messages_from_a_new_number_at_once_make_one_contact(fake_aws, new_phone, autoreplies):
    phone = new_phone()
    bodies = [inbound("inbound_text", phone=phone)[0] for _ in range(2)]
    at_once(*[partial(deliver, body) for body in bodies])
    contact = contact_for(phone)
    assert len(messages_of(contact.contactId)) == 2
    assert conversation(phone).unreadCount == 2
    # Exactly one of the two created the contact, and exactly one started the conversation.
    assert sorted(e["isNewContact"] for e in autoreplies) == [False, True]
    assert sorted(e["isFirstMessage"] for e in autoreplies) == [False, True]


def test_several_messages_in_one_event_are_each_recorded(fake_aws, new_phone):
    phone = new_phone()
    body, first = inbound("inbound_text", phone=phone)
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    second = {**first, "id": first["id"] + "2", "text": {"body": "and another thing"}}
    entry["changes"][0]["value"]["messages"].append(second)
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    assert deliver(json.dumps(event))["recorded"] == 2
    assert conversation(phone).unreadCount == 2
    assert conversation(phone).lastMessageId == second["id"]


def test_a_reaction_marks_the_message_it_is_about(fake_aws, new_phone):
    phone = new_phone()
    body, target = inbound("inbound_text", phone=phone)
    deliver(body)
    body, reaction = inbound("inbound_reaction", phone=phone)
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    entry["changes"][0]["value"]["messages"][0]["reaction"]["message_id"] = target["id"]
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    deliver(json.dumps(event))
    assert wa(target["id"]).reactedWithEmoji == "👍"
    assert wa(reaction["id"]).type == "reaction"


def test_an_unreadable_item_is_logged_and_the_rest_of_the_event_is_recorded(fake_aws, new_phone, caplog):
    phone = new_phone()
    body, good = inbound("inbound_text", phone=phone)
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    order = {
        **good,
        "id": good["id"] + "order",
        "type": "order",
        "order": {"product_items": [{"product_retailer_id": "a", "quantity": "two"}]},
    }
    value["messages"] += [order, "not a message"]
    entry["changes"].insert(0, {"value": ["not", "a", "value"]})
    event["context"]["MetaPhoneNumberIds"].insert(0, "not a phone entry")
    event["whatsAppWebhookEntry"] = json.dumps(entry)

    assert deliver(json.dumps(event)) == {"recorded": 2, "duplicates": 0, "statuses": {}, "skipped": 2}
    assert wa(good["id"]).textBody == good["text"]["body"]
    assert wa(order["id"]).preview == "Order"
    left_out = [r.reason for r in caplog.records if r.getMessage() == "inbound event item left out"]
    assert len(left_out) == 2 and any("not a message" in reason for reason in left_out)


# --- the sender as WhatsApp gave it -----------------------------------------------------------


def unique_digits(prefix: str, total: int) -> str:
    """A number no other test uses, of ``total`` digits after the '+', starting with ``prefix``."""
    tail = str(int(now().timestamp() * 1_000_000))[-(total - len(prefix)) :]
    return f"+{prefix}{tail}"


@pytest.mark.parametrize(("prefix", "digits"), [("9729", 12), ("1111", 13), ("40955", 15), ("1555", 11)])
def test_a_number_libphonenumber_calls_invalid_is_recorded_with_a_contact_holding_it(fake_aws, prefix, digits):
    phone = unique_digits(prefix, digits)
    body, sent = inbound("inbound_text", phone=phone)

    assert deliver(body)["recorded"] == 1
    assert deliver(body)["duplicates"] == 1

    contact = contact_for(phone)
    assert wa(sent["id"]).contactId == contact.contactId and wa(sent["id"]).from_ == phone
    assert conversation(phone).unreadCount == 1
    assert [m.whatsappMessageId for m in messages_of(contact.contactId)] == [sent["id"]]


def username_event(user_id: str, *, name: str = "Sheena") -> tuple[str, dict]:
    """A text from a customer who hides their number: empty from and wa_id, a user_id instead."""
    body, _ = inbound("inbound_text", phone="+10000000000", name_on_profile=name)
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": name, "username": "@sheena"}, "wa_id": "", "user_id": user_id}]
    value["messages"][0].update({"from": "", "from_user_id": user_id})
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    return json.dumps(event), value["messages"][0]


def new_user_id() -> str:
    return f"US.{int(now().timestamp() * 1_000_000)}"


def test_a_username_sender_becomes_a_contact_named_by_their_user_id_with_a_working_conversation(fake_aws, autoreplies):
    user_id = new_user_id()
    body, sent = username_event(user_id)

    assert deliver(body)["recorded"] == 1
    assert deliver(body)["duplicates"] == 1

    item = wa(sent["id"])
    contact = Contact.get(item.contactId, consistent_read=True)
    assert (contact.phone, contact.whatsappUserId, contact.name, contact.optInWhatsApp) == (
        None,
        user_id,
        "Sheena",
        False,
    )
    assert contact.lastInboundMessageAt is not None  # the window is open: a reply can go
    assert item.from_ == user_id and item.conversationPk == f"CONV#{SUFFIX}#{user_id}"
    assert conversation(user_id).unreadCount == 1
    assert messages_of(contact.contactId)[0].content["fromUserId"] == user_id

    second, sent2 = username_event(user_id)
    deliver(second)
    assert wa(sent2["id"]).contactId == contact.contactId  # found again by the user id
    assert conversation(user_id).unreadCount == 2


def test_a_message_that_cannot_be_read_is_recorded_as_unsupported_with_its_raw_payload(fake_aws, new_phone):
    phone = new_phone()
    body, sent = inbound("inbound_text", phone=phone)
    event = json.loads(body)
    entry = json.loads(event["whatsAppWebhookEntry"])
    odd = entry["changes"][0]["value"]["messages"][0]
    odd.update({"type": "text", "text": "<b>not an object</b>"})
    event["whatsAppWebhookEntry"] = json.dumps(entry)

    assert deliver(json.dumps(event))["recorded"] == 1

    item = wa(sent["id"])
    assert item.type == "unsupported" and json.loads(item.rawPayload) == odd
    assert Message.get(item.messageId).content["payload"] == odd
