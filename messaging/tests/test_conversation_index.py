"""The one inbox's conversation items (messaging/conversation_index.py): written with each
recorded message on every channel, exactly once, and what they say about waiting, unread and
status; and the backfill of conversations recorded before them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from contacts import actions
from messaging import conversation_index
from messaging.conversation_index import InboxConversation
from messaging.outbound.send import send_message
from messaging.tests import inbox_data
from messaging.tests.inbound_samples import inbound
from messaging.tests.sns_signing import sns_test_certificates  # noqa: F401 - a fixture
from messaging.tests.test_inbound_processing import SUFFIX, deliver
from messaging.tests.test_sms_inbound import BUSINESS, inbound_sms, post
from messaging.whatsapp_table import WaConversation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]


def item(key: str) -> InboxConversation:
    return InboxConversation.get(key, consistent_read=True)


def whatsapp_key(phone: str) -> str:
    return conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, phone))


def test_a_customer_message_opens_an_unread_waiting_conversation_once_however_often_it_comes(
    fake_aws, operator, new_phone
):
    phone = new_phone()
    contact = actions.create_contact({"phone": phone, "name": "Asha Rao"}, user=operator, source="test")
    body = inbound("inbound_text", phone=phone)[0]
    deliver(body)
    deliver(body)  # SNS delivers twice
    conv = item(whatsapp_key(phone))
    assert (conv.channel, conv.customer, conv.contactId, conv.contactName) == (
        "whatsapp",
        phone,
        contact.contactId,
        "Asha Rao",
    )
    assert conv.unreadCount == 1 and conv.status == "open" and conv.lastDirection == "inbound"
    assert conv.waitingSince == conv.lastAt
    first_wait = conv.waitingSince
    deliver(inbound("inbound_text", phone=phone)[0])
    conv = item(whatsapp_key(phone))
    assert conv.unreadCount == 2 and conv.waitingSince == first_wait  # still waiting since the first


def test_a_persons_reply_ends_the_wait_and_the_platforms_own_send_does_not(fake_aws, operator, new_phone):
    phone = new_phone()
    contact = actions.create_contact({"phone": phone, "optInWhatsApp": True}, user=operator, source="test")
    deliver(inbound("inbound_text", phone=phone)[0])
    key = whatsapp_key(phone)
    send_message(
        {"contactId": contact.contactId, "channel": "whatsapp", "text": "Thanks, we are on it", "sender": _number()},
        user=None,  # the platform (an auto-reply)
        source="test",
    )
    conv = item(key)
    assert conv.lastDirection == "outbound" and conv.waitingSince is not None
    send_message(
        {"contactId": contact.contactId, "channel": "whatsapp", "text": "Your table is ready", "sender": _number()},
        user=operator,
        source="test",
    )
    conv = item(key)
    assert conv.lastDirection == "outbound" and conv.lastPreview == "Your table is ready"
    assert conv.waitingSince is None and conv.status == "open"


def test_a_resolved_conversation_opens_again_when_the_customer_writes(fake_aws, new_phone):
    phone = new_phone()
    deliver(inbound("inbound_text", phone=phone)[0])
    key = whatsapp_key(phone)
    item(key).update(actions=[InboxConversation.status.set("resolved")])
    deliver(inbound("inbound_text", phone=phone)[0])
    assert item(key).status == "open"


def test_an_sms_and_our_reply_are_one_conversation_of_the_sms_channel(client, settings, operator, new_phone):
    settings.SMS_NUMBERS = [BUSINESS]
    phone = new_phone()
    post(client, inbound_sms(phone, "Is the shop open on Sunday?"), settings)
    key = conversation_index.key_for_thread(f"sms#{BUSINESS}#{phone}")
    conv = item(key)
    assert (conv.channel, conv.business, conv.customer, conv.unreadCount) == ("sms", BUSINESS, phone, 1)
    contact = actions.update_contact(
        conv.contactId, {"optInSms": True}, user=operator, source="test", evidence={"note": "asked in the shop"}
    )
    send_message(
        {"contactId": contact.contactId, "channel": "sms", "text": "Yes, 10 to 4", "sender": BUSINESS},
        user=operator,
        source="test",
    )
    conv = item(key)
    assert conv.lastDirection == "outbound" and conv.waitingSince is None and conv.unreadCount == 1


def test_the_backfill_gives_older_conversations_an_item_and_archived_ones_are_resolved(new_phone):
    open_conv = inbox_data.conversation(new_phone(), unread=2)
    archived = inbox_data.conversation(new_phone(), archived=True)
    call_command("backfill_inbox")
    first = item(conversation_index.key_for_whatsapp(open_conv.pk))
    assert first.status == "open" and first.unreadCount == 2
    assert item(conversation_index.key_for_whatsapp(archived.pk)).status == "resolved"
    first.update(actions=[InboxConversation.assignee.set("someone")])
    call_command("backfill_inbox")  # again: nothing already there is overwritten
    assert item(first.key).assignee == "someone"


def test_keys_name_the_source_item_both_ways():
    for source in (f"CONV#{SUFFIX}#+919812345678", "sms#+12125550101#+14155550199", "email#01JD8ZQ5R0000000000000000A"):
        key = (
            conversation_index.key_for_whatsapp(source)
            if source.startswith("CONV#")
            else conversation_index.key_for_thread(source)
        )
        assert "#" not in key and conversation_index.source_key(key) == source


def _number() -> str:
    return settings.WHATSAPP_PHONE_NUMBER_IDS[0]
