"""Search over conversations and messages (messaging/search_index.py writes, messaging/inbox/search.py
reads): a word of an SMS, an email and a WhatsApp message, either direction, a contact's name,
number and address, through the real inbound paths (the index task runs eagerly in tests). The test
settings turn indexing off for the rest of the suite; every test here turns it on (`search_indexing`)."""

from __future__ import annotations

import random
import string
from datetime import timedelta

import pytest
from django.conf import settings
from pynamodb.exceptions import TransactWriteError

from contacts import actions as contact_actions
from localaws import ses_receiving
from localaws import settings as local_stack_settings
from messaging import conversation_index, search_index
from messaging.conversation_index import InboxConversation
from messaging.inbox import search
from messaging.models import MESSAGE_RETENTION_DAYS
from messaging.outbound.send import send_message
from messaging.search_index import SearchEntry
from messaging.tests.inbound_samples import inbound
from messaging.tests.sns_signing import sns_test_certificates  # noqa: F401 - a fixture
from messaging.tests.test_email_inbound import deliver as deliver_mail
from messaging.tests.test_inbound_processing import SUFFIX, deliver
from messaging.tests.test_sms_inbound import BUSINESS, inbound_sms, post
from messaging.whatsapp_table import WaConversation
from wecare import settings as deployed_settings
from wecare.dynamo import Transaction, now, transaction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates", "search_indexing")]


def word() -> str:
    """A word no other test's message holds, so each search has one answer."""
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=10))


def whatsapp_text(phone: str, text: str) -> str:
    """The sample WhatsApp text message from ``phone``, saying ``text`` (letters, spaces, !?,)."""
    return inbound("inbound_text", phone=phone)[0].replace("Hi, is my order ready?", text)


def keys(query: str) -> list[str]:
    return [hit.conversation.key for hit in search.search(query)]


def test_a_word_is_found_in_an_sms_an_email_and_a_whatsapp_message(client, settings, fake_aws, new_phone, new_email):
    settings.SMS_NUMBERS = [BUSINESS]
    sms_word, mail_word, wa_word = word(), word(), word()
    sms_phone = new_phone()
    post(client, inbound_sms(sms_phone, f"Is the {sms_word.upper()} in stock?"), settings)
    sender = new_email()
    body = "Hello,\n" + "filler words here " * 40 + f"and then the {mail_word} at the end"
    mail = ses_receiving.mime(sender=sender, to=settings.EMAIL_RECEIVING_ADDRESSES[0], subject="Order", text=body)
    deliver_mail(client, ses_receiving.receive(mail))
    wa_phone = new_phone()
    deliver(whatsapp_text(wa_phone, f"Hi, is my {wa_word}! ready?"))

    sms_key = conversation_index.key_for_thread(f"sms#{BUSINESS}#{sms_phone}")
    wa_key = conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, wa_phone))
    assert keys(sms_word) == [sms_key]
    [mail_hit] = search.search(mail_word)
    assert mail_hit.conversation.channel == "email" and mail_hit.conversation.customer == sender
    assert mail_word in (mail_hit.snippet or "")  # beyond the preview's 160 characters: the body's words
    assert keys(wa_word) == [wa_key]
    assert search.search(word()) == []


def test_our_reply_is_found_and_a_contact_by_name_number_and_address(fake_aws, operator, new_phone, new_email):
    phone = new_phone()
    surname = word().capitalize()
    contact = contact_actions.create_contact(
        {"phone": phone, "name": f"Meera {surname}", "optInWhatsApp": True}, user=operator, source="test"
    )
    deliver(inbound("inbound_text", phone=phone)[0])
    reply_word = word()
    send_message(
        {
            "contactId": contact.contactId,
            "channel": "whatsapp",
            "text": f"Your {reply_word} ships today",
            "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        },
        user=operator,
        source="test",
    )
    key = conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, phone))
    [hit] = search.search(reply_word)
    assert hit.conversation.key == key and hit.snippet == f"Your {reply_word} ships today"
    assert keys(surname.lower()) == [key] and keys(f"meera {surname}") == [key]
    assert keys(phone) == [key]
    national = phone[-10:]
    assert keys(f"{national[:5]} {national[5:]}") == [key]  # typed with a space, without the country code
    assert search.search(f"{surname} {word()}") == []  # every word must match


def test_indexing_a_message_again_writes_the_same_entries():
    conversation, at, text = "sms~+12125550101~+14155550100", "2026-11-30T10:00:00+00:00", "Refund please, refund!"
    assert (
        search_index.index_message(conversation, at, text, "Asha Rao", "+14155550100") == 6
    )  # refund, please; asha, rao, the number whole and its last ten digits
    search_index.index_message(conversation, at, text, "Asha Rao", "+14155550100")  # a redelivered task
    refund = list(SearchEntry.query("refund"))
    assert [e.ref for e in refund if e.conversation == conversation] == [f"{at}~{conversation}"]
    assert search_index.words("Hello, HELLO wörld! a") == ["hello", "wörld"]


def test_the_search_page_and_api_answer_every_role_that_reads(client_for, viewer, nobody, operator, new_phone):
    phone = new_phone()
    unique = word()
    deliver(whatsapp_text(phone, f"Hi {unique}"))
    client = client_for(viewer)
    page = client.get("/dm/work/search/", {"q": unique})
    assert page.status_code == 200 and unique in page.content.decode()
    assert "1 conversation for" in page.content.decode()
    assert client.get("/dm/work/search/").status_code == 200  # the empty form
    api = client.get("/api/work/search", {"q": unique}).json()
    assert [h["conversation"]["customer"] for h in api] == [phone]
    assert client_for(nobody).get("/dm/work/search/", {"q": unique}).status_code == 403


def test_a_cancelled_transaction_indexes_nothing(new_phone):
    unique, key = word(), f"sms~+12125550101~{new_phone()}"
    message = {"channel": "sms", "business": "+12125550101", "customer": key.rsplit("~", 1)[-1], "contact": None}

    def record(tx: Transaction) -> None:
        conversation_index.update_in(
            tx, key, preview=f"say {unique}", direction="inbound", at=now().isoformat(), **message
        )

    tx = transaction()
    record(tx)
    tx.condition_check(InboxConversation, "no-such-conversation", condition=InboxConversation.key.exists())
    with pytest.raises(TransactWriteError), tx:
        pass
    assert search.search(unique) == []
    with transaction() as tx:  # the same write, committed, is indexed once it commits
        record(tx)
    assert keys(unique) == [key]


def test_a_failure_after_the_commit_never_fails_the_recording(new_phone, caplog):
    """The message is written once the transaction commits: a callback that then raises must not
    tell the writer it failed (a retry would call it a duplicate and skip what follows the record)."""
    unique, key = word(), f"sms~+12125550101~{new_phone()}"
    message = {"channel": "sms", "business": "+12125550101", "customer": key.rsplit("~", 1)[-1], "contact": None}

    def broken() -> None:
        raise RuntimeError("the queue is down")

    with transaction() as tx:  # no exception leaves the block
        tx.after_commit(broken)
        conversation_index.update_in(
            tx, key, preview=f"say {unique}", direction="inbound", at=now().isoformat(), **message
        )

    assert InboxConversation.get(key, consistent_read=True).unreadCount == 1
    assert keys(unique) == [key]  # the callbacks after the broken one still ran
    assert "after-commit callback failed" in caplog.text


@pytest.mark.parametrize("query", ["------", "(((())))", "+ - . ( )"])
def test_a_query_of_punctuation_alone_finds_nothing_rather_than_failing(client_for, viewer, query):
    """It looks like a number and has no digit: the search used to read the index with an empty key (500)."""
    client = client_for(viewer)
    page = client.get("/dm/work/search/", {"q": query})
    assert page.status_code == 200 and "No conversation matches" in page.content.decode()
    assert client.get("/api/work/search", {"q": query}).json() == []


def test_entries_expire_with_their_message_however_late_the_task_runs():
    """A task retried or replayed from the dead-letter queue days later must not keep a customer's
    words past the message's own retention."""
    conversation, phone = "sms~+12125550101~+14155550111", "+14155550111"
    at = now() - timedelta(days=MESSAGE_RETENTION_DAYS - 2)
    unique = word()

    search_index.index_message(conversation, at.isoformat(), f"late {unique}", None, phone)

    [entry] = [e for e in SearchEntry.query(unique) if e.conversation == conversation]
    assert abs((entry.expiresAt - (at + timedelta(days=MESSAGE_RETENTION_DAYS))).total_seconds()) < 1
    gone = (now() - timedelta(days=MESSAGE_RETENTION_DAYS + 1)).isoformat()
    assert search_index.index_message(conversation, gone, f"gone {word()}", None, phone) == 0  # already deleted


def test_indexing_switched_off_enqueues_nothing_and_is_on_where_the_platform_runs(settings, new_phone):
    """The test settings switch indexing off for the tests that never search; the deployed settings
    (and the local stack's, which import them) never do."""
    assert deployed_settings.INBOX_SEARCH_INDEXING and local_stack_settings.INBOX_SEARCH_INDEXING
    settings.INBOX_SEARCH_INDEXING = False
    unique, key = word(), f"sms~+12125550101~{new_phone()}"
    message = {"channel": "sms", "business": "+12125550101", "customer": key.rsplit("~", 1)[-1], "contact": None}
    with transaction() as tx:
        conversation_index.update_in(
            tx, key, preview=f"say {unique}", direction="inbound", at=now().isoformat(), **message
        )
    assert InboxConversation.get(key, consistent_read=True).unreadCount == 1
    assert search.search(unique) == []
