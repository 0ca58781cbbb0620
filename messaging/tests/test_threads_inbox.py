"""The DM → SMS and DM → SES pages and reads: conversations per business number or receiving
address, a conversation's timeline (email subject, sanitised HTML, attachment links), marking
read, archive, and replies through the one send path landing in the same conversation."""

from __future__ import annotations

import email
import html

import pytest
import requests
from django.conf import settings
from ulid import ULID

from contacts import actions
from contacts.models import Contact
from messaging import threads
from messaging.conversation_index import InboxConversation
from messaging.inbox import thread_actions
from messaging.inbox import thread_queries as queries
from messaging.models import Message
from messaging.outbound import send
from messaging.tests import thread_data
from wecare.aws import client

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(settings, new_phone):
    """An SMS number of this test's own (moto keeps every other test's conversations)."""
    number = new_phone()
    settings.SMS_NUMBERS = [number]
    return number


@pytest.fixture
def address():
    return f"support-{str(ULID()).lower()}@wecare.digital"


def person(operator, new_phone, new_email, **fields) -> Contact:
    data = {"name": "Thread Tara", "phone": new_phone(), "email": new_email(), **fields}
    return actions.create_contact(data, user=operator, source="test")


def fresh(item):
    item.refresh(consistent_read=True)
    return item


# --- reads -----------------------------------------------------------------------------------


def test_sms_conversations_are_listed_per_number_newest_first_and_paged(operator, business, new_phone, new_email):
    first, second, third = (person(operator, new_phone, new_email) for _ in range(3))
    for contact in (first, second, third):
        thread_data.sms(business, contact, f"hello from {contact.phone}")
    other = new_phone()
    thread_data.sms(other, first, "to another number")
    page = queries.list_threads("sms", business, limit=2)
    assert [t.customer for t in page.items] == [third.phone, second.phone]
    rest = queries.list_threads("sms", business, limit=2, cursor=page.next_cursor)
    assert [t.customer for t in rest.items] == [first.phone]
    assert [t.customer for t in queries.list_threads("sms", other).items] == [first.phone]
    assert queries.inboxes("sms")[0] == business  # the configured number first
    assert other in queries.inboxes("sms")  # and one a customer wrote to, found from its thread


def test_a_thread_reads_its_messages_oldest_first_and_counts_unread(operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email)
    for text in ("one", "two", "three"):
        message = thread_data.sms(business, contact, text)
    thread = thread_data.thread_of(message)
    assert (thread.unreadCount, thread.messageCount, thread.lastPreview) == (3, 3, "three")
    view = queries.messages(thread, limit=2)
    assert [m.content["text"] for m in view.items] == ["two", "three"]
    older = queries.messages(thread, limit=2, cursor=view.older_cursor)
    assert [m.content["text"] for m in older.items] == ["one"]
    assert queries.contact_for(thread).contactId == contact.contactId


def test_mark_read_zeroes_the_count_only_for_what_the_page_showed(operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "first"))
    shown_at = thread.lastAt
    thread_data.sms(business, contact, "arrived after the page was drawn")
    assert not thread_actions.mark_read(fresh(thread), seen_last_at=shown_at, user=operator)
    assert fresh(thread).unreadCount == 2
    assert thread_actions.mark_read(thread, seen_last_at=thread.lastAt, user=operator)
    assert fresh(thread).unreadCount == 0


def test_archive_hides_a_thread_and_a_new_message_brings_it_back(operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hi"))
    thread_actions.set_archived(thread, True, user=operator)
    assert queries.list_threads("sms", business).items == []
    assert [t.threadId for t in queries.list_threads("sms", business, archived=True).items] == [thread.threadId]
    thread_data.sms(business, contact, "again")
    assert [t.threadId for t in queries.list_threads("sms", business).items] == [thread.threadId]


@pytest.mark.parametrize("name", ["sms~+1", "email~nope", "whatsapp~x", "sms~+14155550100", "../etc"])
def test_a_malformed_or_missing_thread_is_not_found(client_for, viewer, name):
    assert client_for(viewer).get(f"/dm/{name}/").status_code == 404


# --- pages -----------------------------------------------------------------------------------


def test_the_sms_page_lists_conversations_and_the_thread_page_shows_the_timeline(
    client_for, viewer, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, name="Sita Sms")
    message = thread_data.sms(business, contact, "Is the shop open on Sunday?")
    slug = queries.slug(message.threadId)
    web = client_for(viewer)
    listing = web.get("/dm/", {"channel": "sms", "business": business}).content.decode()
    assert f'data-conversation="{slug}"' in listing and "Is the shop open on Sunday?" in listing
    assert 'data-unread="1"' in listing
    assert "Archive</button>" not in listing  # a viewer only reads
    page = web.get(f"/dm/{slug}/").content.decode()
    assert "Is the shop open on Sunday?" in page
    assert f'href="/contacts/{contact.contactId}/"' in page and "Sita Sms" in page
    assert 'id="reply"' not in page and "need the operator role" in page
    assert "data-read-url" not in page  # a viewer's page marks nothing read
    assert fresh(thread_data.thread_of(message)).unreadCount == 1  # no GET marks anything read


def test_empty_inboxes_say_where_conversations_come_from(client_for, viewer, business, address):
    web = client_for(viewer)
    assert f"No SMS conversations yet — they appear when a customer texts {business}" in (
        web.get("/dm/", {"channel": "sms", "business": business}).content.decode()
    )
    assert f"No email conversations yet — they appear when a customer writes to {address}" in (
        web.get("/dm/", {"channel": "email", "business": address}).content.decode()
    )


def test_the_sidebar_links_the_inbox_filtered_to_sms_and_email(client_for, viewer):
    page = client_for(viewer).get("/dm/", {"channel": "sms"}).content.decode()
    assert 'href="/dm/?channel=sms"' in page and 'href="/dm/?channel=email"' in page


def test_the_old_sms_and_email_pages_redirect_into_the_inbox(client_for, viewer, business):
    web = client_for(viewer)
    assert web.get("/dm/sms/", {"business": business})["Location"] == f"/dm/?channel=sms&business=%2B{business[1:]}"
    assert web.get("/dm/email/")["Location"] == "/dm/?channel=email"
    assert web.get("/dm/sms/sms~+14155550100~+14155550101/")["Location"] == "/dm/sms~+14155550100~+14155550101/"


def test_the_email_thread_shows_subject_sanitised_html_and_attachment_links(
    client_for, viewer, operator, address, new_phone, new_email
):
    contact = person(operator, new_phone, new_email)
    key = f"inbound-email/{ULID()}/invoice.pdf"
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=b"%PDF-1.4 test")
    message = thread_data.email(
        address,
        contact,
        "Please see the invoice",
        subject="Invoice for March",
        html='<p>Please see <b>the invoice</b></p><script>alert(1)</script><img src=x onerror="alert(2)">',
        attachments=[
            {"s3Key": key, "filename": "invoice.pdf", "contentType": "application/pdf", "size": 13},
            {"fileId": "not-stored", "filename": "lost.png", "contentType": "image/png", "size": 5},
        ],
    )
    web = client_for(viewer)
    listing = web.get("/dm/", {"channel": "email", "business": address}).content.decode()
    assert "Invoice for March" in listing and contact.email in listing
    page = web.get(f"/dm/{queries.slug(message.threadId)}/").content.decode()
    assert "<b>the invoice</b>" in page
    assert "<script>alert(1)" not in page and "onerror" not in page
    link = next(part.split('"')[0] for part in page.split('href="')[1:] if "invoice.pdf" in part.split('"')[0])
    assert requests.get(html.unescape(link), timeout=10).content == b"%PDF-1.4 test"  # a working presigned link
    assert "lost.png — file not stored" in page


# --- replies ---------------------------------------------------------------------------------


def test_an_sms_reply_from_the_composer_lands_in_its_thread(client_for, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInSms=True)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "When do you open?"))
    slug = queries.slug(thread.threadId)
    response = client_for(operator).post(f"/dm/{slug}/reply/", {"text": "At nine", "action": "send"})
    assert response.status_code == 200 and "Queued" in response.content.decode()
    [reply] = [m for m in queries.messages(thread).items if m.direction == "outbound"]
    assert reply.threadId == thread.threadId and reply.content["text"] == "At nine"
    assert reply.status == "sent" and reply.dryRun  # through the send path, DRY_RUN at the sender
    # The number the customer texted is one of SMS_NUMBERS (on the allowlist): the reply goes from it.
    assert reply.sender == business
    assert reply.providerRequest[0]["params"]["OriginationIdentity"] == business
    assert reply.providerRequest[0]["params"]["DestinationPhoneNumber"] == contact.phone
    thread = fresh(thread)
    assert (thread.messageCount, thread.lastDirection, thread.lastPreview, thread.unreadCount) == (
        2,
        "outbound",
        "At nine",
        1,  # a reply is not a reading: the inbound message stays unread until the page marks it
    )
    page = client_for(operator).get(f"/dm/{slug}/").content.decode()
    assert "At nine" in page and 'data-status="sent"' in page


def test_an_sms_reply_to_a_number_off_the_allowlist_goes_from_the_pool(
    client_for, operator, settings, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, optInSms=True)
    unlisted = new_phone()  # a customer texted a number SMS_NUMBERS does not name
    settings.SMS_NUMBERS = []
    thread = thread_data.thread_of(thread_data.sms(unlisted, contact, "hi"))
    assert thread_actions.reply_sender(thread) == settings.SMS_POOL_ID
    page = client_for(operator).get(f"/dm/{queries.slug(thread.threadId)}/").content.decode()
    assert "the SMS pool: it picks the number" in page
    thread_actions.reply(thread, text="hello", user=operator)
    [reply] = [m for m in queries.messages(thread).items if m.direction == "outbound"]
    # From the pool, yet in the conversation with the number the customer wrote to.
    assert (reply.sender, reply.threadId, fresh(thread).business) == (settings.SMS_POOL_ID, thread.threadId, unlisted)


def test_a_refused_reply_shows_the_gates_sentence_and_records_nothing(
    client_for, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email)  # no SMS opt-in
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hello?"))
    response = client_for(operator).post(
        f"/dm/{queries.slug(thread.threadId)}/reply/", {"text": "hi", "action": "send"}
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'data-code="CONSENT_NEVER_GIVEN"' in body
    assert "has not agreed to SMS messages yet. Record their consent first." in body
    assert [m.direction for m in queries.messages(thread).items] == ["inbound"]
    assert fresh(thread).messageCount == 1


def test_an_empty_reply_is_a_form_error(client_for, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInSms=True)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hello?"))
    response = client_for(operator).post(
        f"/dm/{queries.slug(thread.threadId)}/reply/", {"text": "   ", "action": "send"}
    )
    assert response.status_code == 422 and "Write a message." in response.content.decode()


def test_a_viewer_cannot_reply_archive_or_mark_read(client_for, viewer, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInSms=True)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hello?"))
    web, slug = client_for(viewer), queries.slug(thread.threadId)
    assert web.post(f"/dm/{slug}/reply/", {"text": "hi", "action": "send"}).status_code == 403
    assert web.post(f"/dm/{slug}/archive/", {"archived": "1"}).status_code == 403
    assert web.post(f"/dm/{slug}/read/", {"until": thread.lastAt}).status_code == 403
    thread = fresh(thread)
    assert (thread.messageCount, thread.archived, thread.unreadCount) == (1, False, 1)


def test_the_operators_page_marks_read_by_post_and_archives(client_for, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hello?"))
    web, slug = client_for(operator), queries.slug(thread.threadId)
    page = web.get(f"/dm/{slug}/").content.decode()
    assert f'data-read-until="{thread.lastAt}"' in page
    assert web.post(f"/dm/{slug}/read/", {"since": thread.lastAt, "until": thread.lastAt}).status_code == 204
    assert fresh(thread).unreadCount == 0
    assert InboxConversation.get(slug, consistent_read=True).unreadCount == 0  # the inbox's item too
    assert web.post(f"/dm/{slug}/read/", {"until": "yesterday"}).status_code == 400
    response = web.post(f"/dm/{slug}/archive/", {"archived": "1"})
    assert response.status_code == 302 and fresh(thread).archived
    # The old email address does not serve an SMS conversation.
    assert web.get(f"/dm/email/{slug}/", follow=True).status_code == 404


def test_an_email_reply_threads_with_re_subject_and_the_customers_message_id(
    client_for, operator, address, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, optInEmail=True)
    message = thread_data.email(
        address,
        contact,
        "Where is my parcel?",
        subject="Parcel 77",
        messageIdHeader="abc@mail.example.com",
        references=["root@mail.example.com"],
    )
    thread = thread_data.thread_of(message)
    slug = queries.slug(thread.threadId)
    web = client_for(operator)
    page = web.get(f"/dm/{slug}/").content.decode()
    assert 'value="Re: Parcel 77"' in page
    response = web.post(f"/dm/{slug}/reply/", {"subject": "Re: Parcel 77", "text": "It ships today"})
    assert response.status_code == 200, response.content.decode()
    [reply] = [m for m in queries.messages(thread).items if m.direction == "outbound"]
    assert reply.threadId == thread.threadId and reply.sender == settings.SES_SENDER_EMAIL
    # The send path adds the thread's headers (messaging/email_threads.py): the mail goes as Raw MIME.
    mail = email.message_from_string(reply.providerRequest[0]["params"]["Content"]["Raw"]["Data"])
    assert mail["Subject"] == "Re: Parcel 77"
    assert mail["In-Reply-To"] == "<abc@mail.example.com>"
    assert mail["References"] == "<root@mail.example.com> <abc@mail.example.com>"
    thread = fresh(thread)
    # The reply stays in the inbox of the address the customer wrote to, under its first subject.
    assert (thread.business, thread.subject, thread.messageCount) == (address, "Parcel 77", 2)


def test_an_email_from_the_contact_page_starts_a_thread_the_reply_can_join(client_for, operator, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInEmail=True)
    response = client_for(operator).post(
        f"/messages/contact/{contact.contactId}/compose/",
        {
            "channel": "email",
            "sender": settings.SES_SENDER_EMAIL,
            "subject": "Your booking",
            "text": "See you at ten",
            "action": "send",
        },
    )
    assert response.status_code == 200, response.content.decode()
    [sent] = [m for m in Message.by_contact.query(contact.contactId) if m.channel == "email"]
    assert sent.threadId and sent.threadId.startswith("email#")
    thread = threads.Thread.get(sent.threadId, consistent_read=True)
    assert (thread.business, thread.customer, thread.subject, thread.lastDirection, thread.unreadCount) == (
        settings.SES_SENDER_EMAIL,
        contact.email,
        "Your booking",
        "outbound",
        0,
    )


def test_an_sms_from_the_pool_on_the_contact_page_joins_no_thread(client_for, operator, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInSms=True)
    response = client_for(operator).post(
        f"/messages/contact/{contact.contactId}/compose/",
        {"channel": "sms", "sender": settings.SMS_POOL_ID, "text": "Hello", "action": "send"},
    )
    assert response.status_code == 200
    [sent] = [m for m in Message.by_contact.query(contact.contactId) if m.channel == "sms"]
    assert sent.threadId is None  # the pool picks the number: no conversation can be named


def test_a_thread_of_another_channel_is_refused_by_the_send_path(operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInEmail=True)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hi"))
    with pytest.raises(send.FieldErrors):
        send.send_message(
            {"contactId": contact.contactId, "channel": "email", "subject": "x", "text": "x"},
            user=operator,
            source="test",
            thread_id=thread.threadId,
        )


def test_an_sms_from_a_two_way_number_on_the_contact_page_joins_that_numbers_thread(
    client_for, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, optInSms=True)
    response = client_for(operator).post(
        f"/messages/contact/{contact.contactId}/compose/",
        {"channel": "sms", "sender": business, "text": "Your table is ready", "action": "send"},
    )
    assert response.status_code == 200, response.content.decode()
    [sent] = [m for m in Message.by_contact.query(contact.contactId) if m.channel == "sms"]
    assert sent.threadId == threads.sms_thread_id(business, contact.phone)
    thread = threads.Thread.get(sent.threadId, consistent_read=True)
    assert (thread.business, thread.customer, thread.lastPreview, thread.unreadCount) == (
        business,
        contact.phone,
        "Your table is ready",
        0,
    )


def test_the_polls_answer_204_until_something_shown_changes(
    client_for, viewer, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email)
    message = thread_data.sms(business, contact, "first")
    slug = queries.slug(message.threadId)
    web = client_for(viewer)
    listing = web.get("/dm/", {"channel": "sms", "business": business}).content.decode()
    seen = listing.split('"seen": "', 1)[1].split('"', 1)[0]
    poll = f"/dm/conversations/?channel=sms&business=%2B{business[1:]}&seen={seen}"
    assert web.get(poll).status_code == 204
    page = web.get(f"/dm/{slug}/").content.decode()
    timeline_seen = page.split('id="latest"', 1)[1].split('"seen": "', 1)[1].split('"', 1)[0]
    assert web.get(f"/dm/{slug}/latest/?seen={timeline_seen}").status_code == 204

    thread_data.sms(business, contact, "second")
    redrawn = web.get(poll)
    assert redrawn.status_code == 200 and "second" in redrawn.content.decode()
    latest = web.get(f"/dm/{slug}/latest/?seen={timeline_seen}")
    assert latest.status_code == 200 and "second" in latest.content.decode()


def test_a_reply_is_refused_when_the_contacts_number_changed_since_the_conversation(
    client_for, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, optInSms=True)
    thread = thread_data.thread_of(thread_data.sms(business, contact, "hi"))
    actions.update_contact(contact.contactId, {"phone": new_phone()}, user=operator, source="test")
    response = client_for(operator).post(
        f"/dm/{queries.slug(thread.threadId)}/reply/", {"text": "hello", "action": "send"}
    )
    assert response.status_code == 422
    assert f"not {thread.customer}: write from their page" in response.content.decode()
    assert fresh(thread).messageCount == 1  # nothing queued, nothing sent to the new number
