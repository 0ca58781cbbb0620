"""The one inbox's WhatsApp conversations: listed per number, the timeline, marking read (and the read
receipt in LIVE), archive, reply through the send path, the consent action and media links."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.conf import settings
from django.test import Client
from ulid import ULID

from contacts import actions
from contacts import queries as contact_queries
from contacts.models import Contact
from messaging.inbox import actions as inbox_actions
from messaging.inbox import listing
from messaging.inbox import queries as inbox_queries
from messaging.models import Message
from messaging.tests import inbox_data
from messaging.whatsapp_table import WaMessage
from wecare.aws import client
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def numbers(settings):
    """Two business numbers of this test's own: moto keeps every other test's conversations."""
    fresh = [f"phone-number-id-{str(ULID()).lower()}" for _ in range(2)]
    settings.WHATSAPP_PHONE_NUMBER_IDS = fresh
    return fresh


@pytest.fixture
def live(settings, fake_aws_clean):
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    return fake_aws_clean


def audited(action: str, resource_id: str) -> list[AuditLog]:
    return [e for e in AuditLog.scan(AuditLog.action == action) if e.resourceId == resource_id]


def fresh(item):
    item.refresh(consistent_read=True)
    return item


def customer(operator, new_phone, *, opted_in: bool = True, window_open: bool = True) -> Contact:
    contact = actions.create_contact(
        {"name": "Inbox Ira", "phone": new_phone(), "optInWhatsApp": opted_in}, user=operator, source="test"
    )
    if window_open:
        contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=5))])
    return contact


# --- the conversation list -------------------------------------------------------------------


def test_conversations_are_listed_per_number_newest_first_and_paged(numbers, new_phone):
    a, b = numbers
    oldest, middle, newest = (inbox_data.conversation(new_phone(), number=a, minutes_ago=m) for m in (30, 20, 10))
    other_number = inbox_data.conversation(new_phone(), number=b)
    first = inbox_queries.list_conversations(a, limit=2)
    assert [c.pk for c in first.items] == [newest.pk, middle.pk]
    second = inbox_queries.list_conversations(a, limit=2, cursor=first.next_cursor)
    assert [c.pk for c in second.items] == [oldest.pk]
    assert [c.pk for c in inbox_queries.list_conversations(b).items] == [other_number.pk]


def test_archived_conversations_are_listed_apart_and_pages_stay_full(numbers, new_phone):
    a = numbers[0]
    archived = [inbox_data.conversation(new_phone(), number=a, archived=True, minutes_ago=m) for m in (1, 2, 3)]
    kept = [inbox_data.conversation(new_phone(), number=a, minutes_ago=m) for m in (4, 5)]
    # The archived flag is a filter: the first read of 2 finds only archived ones, yet the page is full.
    page = inbox_queries.list_conversations(a, limit=2)
    assert [c.pk for c in page.items] == [k.pk for k in kept]
    assert [c.pk for c in inbox_queries.list_conversations(a, archived=True).items] == [x.pk for x in archived]


def test_the_inbox_filters_by_business_number_and_shows_unread_badges(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[1], unread=3)
    other = inbox_data.conversation(new_phone(), number=numbers[0], unread=1)
    response = client_for(viewer).get(f"/dm/?channel=whatsapp&business={numbers[1]}")
    html = response.content.decode()
    assert response.status_code == 200
    assert all(f'data-business="{n}"' in html for n in numbers)  # every number is a filter
    assert f'data-conversation="whatsapp~{inbox_queries.slug(conv.pk)}" data-unread="3"' in html
    assert inbox_queries.slug(other.pk) not in html


def test_the_old_whatsapp_inbox_address_opens_the_inbox_filtered_to_its_number(client_for, viewer, numbers):
    response = client_for(viewer).get(f"/dm/whatsapp/?number={numbers[1]}")
    assert response.status_code == 302 and response["Location"] == f"/dm/?channel=whatsapp&business={numbers[1]}"


def test_the_list_poll_answers_204_while_nothing_changed_and_marks_nothing_read(
    client_for, operator, numbers, new_phone
):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    first = inbox_data.inbound(conv, "first")
    user_client = client_for(operator)
    filters = listing.Filters(channel="whatsapp", business=numbers[0])
    seen = listing.list_digest(listing.list_page(filters, username=operator.username))
    url = f"/dm/conversations/?{filters.query()}&seen={seen}"  # the client drops a query beside data
    assert user_client.get(url).status_code == 204
    inbox_data.inbound(conv, "second")
    response = user_client.get(url)
    assert response.status_code == 200 and 'data-unread="2"' in response.content.decode()
    assert fresh(conv).unreadCount == 2 and not fresh(first).markedAsRead


def test_a_bad_cursor_is_a_400_not_a_crash(client_for, viewer, numbers):
    assert client_for(viewer).get(f"/dm/?channel=whatsapp&business={numbers[0]}&cursor=forged").status_code == 400


# --- the timeline ----------------------------------------------------------------------------


def test_the_timeline_shows_newest_at_the_bottom_and_pages_to_older(numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    sent = [inbox_data.message(conv, text=f"m{i}", minutes_ago=10 - i) for i in range(5)]
    newest = inbox_queries.timeline(conv, limit=3)
    assert [m.textBody for m in newest.items] == ["m2", "m3", "m4"]
    older = inbox_queries.timeline(conv, limit=3, cursor=newest.older_cursor)
    assert [m.textBody for m in older.items] == ["m0", "m1"]
    # a live view that grew past a page asks for everything since its oldest message
    assert [m.pk for m in inbox_queries.timeline(conv, since=sent[1].receivedAt).items] == [m.pk for m in sent[1:]]


def test_each_type_is_drawn_its_own_way_and_outbound_ticks_and_failures_show(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    inbox_data.message(conv, kind="reaction", text=None, reactedWithEmoji="👍", minutes_ago=5)
    inbox_data.message(conv, kind="location", text=None, minutes_ago=4)
    inbox_data.message(conv, kind="interactive", text="Order status", minutes_ago=3)
    delivered = inbox_data.message(
        conv, direction="OUTBOUND", text="On its way", deliveryStatus="delivered", minutes_ago=2
    )
    failed = inbox_data.message(
        conv,
        direction="OUTBOUND",
        text="Hello?",
        deliveryStatus="failed",
        minutes_ago=1,
        deliveryStatusHistory=[
            {"status": "sent", "at": inbox_data.iso(1)},
            {
                "status": "failed",
                "at": inbox_data.iso(0),
                "errors": [{"code": 131047, "title": "Re-engagement message"}],
            },
        ],
    )
    recorded = inbox_data.message(
        conv,
        direction="OUTBOUND",
        text="Sale!",
        deliveryStatus="failed",
        errorCode=131026,
        errorTitle="Message undeliverable",
    )
    inbox_data.message(conv, kind="sticker_pack_v9", text=None)
    html = client_for(viewer).get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode()
    assert "Reacted 👍" in html
    assert "📍" in html
    assert "chose</small> Order status" in html
    assert f'data-message="{delivered.pk}"' in html and 'data-status="delivered"' in html
    assert f'data-message="{failed.pk}"' in html and "failed: 131047: Re-engagement message" in html
    assert (
        f'data-message="{recorded.pk}"' in html and "failed: 131026: Message undeliverable" in html
    )  # as status updates store it
    assert "[sticker_pack_v9]" in html  # an unknown type is shown as such, never an error


def test_the_timeline_poll_answers_204_until_something_it_shows_changes(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    first = inbox_data.inbound(conv, "first", minutes_ago=2)
    reply = inbox_data.message(conv, direction="OUTBOUND", text="answer", deliveryStatus="sent", minutes_ago=1)
    url = f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/latest/"
    user_client = client_for(viewer)
    seen = inbox_queries.timeline_digest(inbox_queries.timeline(conv, since=first.receivedAt))
    assert user_client.get(url, {"since": first.receivedAt, "seen": seen}).status_code == 204
    reply.update(actions=[WaMessage.deliveryStatus.set("read")])  # the customer read our answer
    response = user_client.get(url, {"since": first.receivedAt, "seen": seen})
    assert response.status_code == 200 and 'data-status="read"' in response.content.decode()
    assert user_client.get(url, {"since": "yesterday"}).status_code == 400


def test_older_messages_load_a_page_at_a_time_above_the_live_part(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    for i in range(inbox_queries.PAGE_SIZE + 2):
        inbox_data.message(conv, text=f"msg-{i:02d}", minutes_ago=100 - i)
    user_client = client_for(viewer)
    page = user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode()
    assert "msg-02" in page and "msg-01" not in page and "Older messages" in page
    cursor = inbox_queries.timeline(conv).older_cursor
    older = user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/older/", {"cursor": cursor}).content.decode()
    assert "msg-00" in older and "msg-01" in older and "msg-02" not in older
    assert (
        user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/older/", {"cursor": "forged"}).status_code == 400
    )


# --- marking read ----------------------------------------------------------------------------


READ_FORM = re.compile(
    r'data-read-url="(?P<url>[^"]+)" data-read-since="(?P<since>[^"]+)" data-read-until="(?P<until>[^"]+)"'
)


def open_and_mark_read(user_client, conv, **headers):
    """What a browser does: open the conversation, then POST the read form the page carries
    (static/js/app.js does this once the page is shown). Returns the POST's response."""
    page = user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/", **headers)
    assert page.status_code == 200
    form = READ_FORM.search(page.content.decode())
    assert form, "the page offers no read form"
    return user_client.post(form["url"], {"since": form["since"], "until": form["until"]})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "main"},
        {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "latest", "HTTP_HX_TRIGGER": "latest"},
    ],
    ids=["plain", "htmx-navigation", "htmx-poll"],
)
def test_no_get_of_a_conversation_marks_anything_read(client_for, operator, numbers, new_phone, headers):
    """A link on another site (or a forged htmx request) must not change state."""
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    one = inbox_data.inbound(conv, "one", minutes_ago=2)
    inbox_data.inbound(conv, "two", minutes_ago=1)
    user_client = client_for(operator)
    slug = inbox_queries.slug(conv.pk)
    assert user_client.get(f"/dm/whatsapp~{slug}/", **headers).status_code == 200
    assert user_client.get(f"/dm/whatsapp~{slug}/latest/", {"since": one.receivedAt}, **headers).status_code == 200
    assert fresh(conv).unreadCount == 2 and not fresh(one).markedAsRead
    assert audited("conversation.read", conv.pk) == []


def test_an_operator_opening_a_conversation_marks_it_read_with_the_pages_post(client_for, operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    one, two = inbox_data.inbound(conv, "one", minutes_ago=2), inbox_data.inbound(conv, "two", minutes_ago=1)
    assert fresh(conv).unreadCount == 2
    response = open_and_mark_read(client_for(operator), conv)
    assert response.status_code == 204
    assert fresh(conv).unreadCount == 0
    assert fresh(one).markedAsRead and fresh(two).markedAsRead
    assert len(audited("conversation.read", conv.pk)) == 1


def test_the_read_post_needs_the_csrf_token_and_an_operator(operator, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    message = inbox_data.inbound(conv)
    url = f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/read/"
    times = {"since": message.receivedAt, "until": message.receivedAt}
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    assert strict.post(url, times).status_code == 403  # another site's form carries no token
    assert fresh(conv).unreadCount == 1
    page = strict.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)[1]  # what the page's script sends
    assert strict.post(url, times, HTTP_X_CSRFTOKEN=token).status_code == 204
    assert fresh(conv).unreadCount == 0
    viewer_client = Client()
    viewer_client.force_login(viewer)
    assert viewer_client.post(url, times).status_code == 403


def test_the_read_post_marks_only_what_the_page_drew_and_refuses_other_times(client_for, operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    seen = inbox_data.inbound(conv, "seen", minutes_ago=2)
    user_client = client_for(operator)
    form = READ_FORM.search(user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode())
    later = inbox_data.inbound(conv, "arrived after the page was drawn", minutes_ago=1)
    assert user_client.post(form["url"], {"since": form["since"], "until": form["until"]}).status_code == 204
    assert fresh(seen).markedAsRead and not fresh(later).markedAsRead
    assert fresh(conv).unreadCount == 2
    assert user_client.post(form["url"], {"since": "yesterday", "until": form["until"]}).status_code == 400


def test_a_viewer_is_offered_no_read_form(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    inbox_data.inbound(conv)
    assert (
        "data-read-url" not in client_for(viewer).get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode()
    )


def test_a_viewer_reading_marks_nothing(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    message = inbox_data.inbound(conv)
    assert client_for(viewer).get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").status_code == 200
    assert fresh(conv).unreadCount == 1 and not fresh(message).markedAsRead


def test_a_message_that_arrived_after_the_page_was_read_keeps_the_conversation_unread(operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    seen = inbox_data.inbound(conv, "seen")
    shown = inbox_queries.timeline(fresh(conv)).items
    unseen = inbox_data.inbound(conv, "arrived meanwhile")
    inbox_actions.mark_read(conv, shown, user=operator)
    assert fresh(conv).unreadCount == 2
    assert fresh(seen).markedAsRead and not fresh(unseen).markedAsRead


def test_in_live_opening_sends_one_read_receipt_for_the_newest_message(live, client_for, operator, new_phone):
    conv = inbox_data.conversation(new_phone())
    inbox_data.inbound(conv, "one")
    newest = inbox_data.inbound(conv, "two")
    user_client = client_for(operator)
    open_and_mark_read(user_client, conv)
    [call] = live.calls("SendWhatsAppMessage")
    assert call["params"]["originationPhoneNumberId"] == settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    assert json.loads(base64.b64decode(call["params"]["message"])) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": newest.pk.removeprefix("MSG#"),
    }
    user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/")  # already read: no second receipt
    user_client.post(
        f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/read/", {"since": newest.receivedAt, "until": newest.receivedAt}
    )
    assert len(live.calls("SendWhatsAppMessage")) == 1


def test_in_dry_run_the_receipt_is_not_sent_but_the_messages_are_read(fake_aws_clean, client_for, operator, new_phone):
    conv = inbox_data.conversation(new_phone())
    message = inbox_data.inbound(conv)
    assert open_and_mark_read(client_for(operator), conv).status_code == 204
    assert fake_aws_clean.calls("SendWhatsAppMessage") == []
    assert fresh(message).markedAsRead and fresh(conv).unreadCount == 0


def test_a_failed_read_receipt_is_logged_and_the_page_still_opens(live, client_for, operator, new_phone, caplog):
    live.fail("SendWhatsAppMessage", "ValidationException", message="message_id is not valid")
    conv = inbox_data.conversation(new_phone())
    inbox_data.inbound(conv, "still shown")
    with caplog.at_level(logging.WARNING, logger="messaging.inbox"):
        response = open_and_mark_read(client_for(operator), conv)
    assert response.status_code == 204  # the messages are read here either way
    assert any(r.getMessage() == "read receipt failed" for r in caplog.records)


# --- archive ---------------------------------------------------------------------------------


def test_archive_and_unarchive_move_the_conversation_and_are_audited(client_for, operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    slug = inbox_queries.slug(conv.pk)
    user_client = client_for(operator)
    assert user_client.post(f"/dm/whatsapp~{slug}/archive/", {"archived": "1"}).status_code == 302
    assert fresh(conv).archived and inbox_queries.list_conversations(numbers[0]).items == []
    assert [c.pk for c in inbox_queries.list_conversations(numbers[0], archived=True).items] == [conv.pk]
    user_client.post(f"/dm/whatsapp~{slug}/archive/", {"archived": "0"})
    assert not fresh(conv).archived
    assert len(audited("conversation.archive", conv.pk)) == 1 and len(audited("conversation.unarchive", conv.pk)) == 1


def test_a_viewer_cannot_archive(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    assert (
        client_for(viewer).post(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/archive/", {"archived": "1"}).status_code
        == 403
    )
    assert not fresh(conv).archived


# --- reply -----------------------------------------------------------------------------------


def test_a_reply_in_the_window_goes_through_the_send_path_from_the_conversations_number(
    client_for, operator, new_phone
):
    contact = customer(operator, new_phone)
    conv = inbox_data.conversation(contact.phone, number=settings.WHATSAPP_PHONE_NUMBER_IDS[1])
    response = client_for(operator).post(
        f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/reply/",
        {"kind": "text", "text": "Yes, it is ready", "action": "send"},
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "message-sent"
    [message] = list(Message.by_contact.query(contact.contactId))
    assert message.sender == settings.WHATSAPP_PHONE_NUMBER_IDS[1] and message.content["text"] == "Yes, it is ready"
    [entry] = [e for e in AuditLog.scan(AuditLog.action == "message.send") if e.resourceId == message.messageId]
    assert entry.details["source"] == "inbox"


def test_outside_the_window_free_form_is_refused_and_the_template_picker_is_offered(
    client_for, operator, new_phone, fake_aws_clean
):
    from messaging.outbound import template_catalog

    template_catalog.sync_templates()
    contact = customer(operator, new_phone, window_open=False)
    conv = inbox_data.conversation(contact.phone)
    slug = inbox_queries.slug(conv.pk)
    user_client = client_for(operator)
    page = user_client.get(f"/dm/whatsapp~{slug}/").content.decode()
    # No free-text box in the composer (the private note's own box, named text too, posts to its own form).
    composer = page[page.index('<section id="reply"') : page.index("</section>", page.index('<section id="reply"'))]
    assert 'data-window="closed"' in page and 'name="template"' in composer
    assert "data-send-on-ctrl-enter" not in page and '<textarea name="text"' not in composer
    refused = user_client.post(
        f"/dm/whatsapp~{slug}/reply/", {"kind": "text", "text": "Are you there?", "action": "send"}
    )
    html = refused.content.decode()
    assert refused.status_code == 422 and 'data-code="TEMPLATE_REQUIRED"' in html
    assert 'name="template"' in html and template_catalog.approved_templates()[0].templateName in html


def test_a_template_reply_has_a_field_per_variable_and_send_waits_for_every_value(
    client_for, operator, new_phone, fake_aws_clean
):
    from messaging.outbound import template_catalog

    template_catalog.sync_templates()
    contact = customer(operator, new_phone, window_open=False)
    reply = f"/dm/whatsapp~{inbox_queries.slug(inbox_data.conversation(contact.phone).pk)}/reply/"
    user_client = client_for(operator)
    picked = {"kind": "template", "template": "welcome_message|en_US"}
    send_off = re.compile(r'data-action="send" disabled')

    # Picking the template (no action: a redraw) draws its fields, the preview and Send off, saying why.
    none = user_client.post(reply, picked).content.decode()
    assert 'name="body_1" value="" data-fills="body-1"' in none and 'data-fills="body-2"' in none
    assert "data-template-preview" in none and "one per line" not in none
    assert "This template needs 2 values; you gave none." in none and send_off.search(none)
    # Typing redraws the same way (the page keeps only #reply-verdict): Send turns on with every value.
    one = user_client.post(reply, {**picked, "body_1": "Ira"}).content.decode()
    assert send_off.search(one) and 'data-verdict="incomplete"' in one
    both = user_client.post(reply, {**picked, "body_1": "Ira", "body_2": "WECARE"}).content.decode()
    assert not send_off.search(both) and 'data-verdict="incomplete"' not in both

    sent = user_client.post(reply, {**picked, "body_1": "Ira", "body_2": "WECARE", "action": "send"})
    assert sent.status_code == 200 and sent["HX-Trigger"] == "message-sent"
    [message] = list(Message.by_contact.query(contact.contactId))
    assert message.content["template"]["parameters"]["body"] == ["Ira", "WECARE"]


def test_a_reply_without_opt_in_is_refused_with_the_reason(client_for, operator, new_phone):
    contact = customer(operator, new_phone, opted_in=False)
    conv = inbox_data.conversation(contact.phone)
    response = client_for(operator).post(
        f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/reply/", {"kind": "text", "text": "Hi", "action": "send"}
    )
    html = response.content.decode()
    assert response.status_code == 422 and 'data-code="CONSENT_NEVER_GIVEN"' in html
    # A person reads the sentence, not the gate's code.
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Not sent. Inbox Ira has not agreed to WhatsApp messages yet." in said and "CONSENT_NEVER_GIVEN" not in said


# --- consent ---------------------------------------------------------------------------------


def test_consent_needs_the_confirmation_box(client_for, operator, new_phone):
    contact = customer(operator, new_phone, opted_in=False)
    conv = inbox_data.conversation(contact.phone)
    response = client_for(operator).post(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/consent/", {"note": "said yes"})
    assert response.status_code == 422 and "Tick the box" in response.content.decode()
    assert not Contact.get(contact.contactId, consistent_read=True).optInWhatsApp


def test_recording_consent_sets_the_opt_in_with_who_when_and_source_and_is_audited(client_for, operator, new_phone):
    contact = customer(operator, new_phone, opted_in=False)
    conv = inbox_data.conversation(contact.phone)
    user_client = client_for(operator)
    assert "Record WhatsApp consent" in user_client.get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode()
    response = user_client.post(
        f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/consent/", {"confirmed": "on", "note": "Agreed on the phone"}
    )
    assert response.status_code == 302
    stored = Contact.get(contact.contactId, consistent_read=True)
    assert stored.optInWhatsApp
    assert (stored.consentWhatsApp.changedBy, stored.consentWhatsApp.source) == (operator.username, "inbox")
    [entry] = audited("contact.consent.whatsapp", contact.contactId)
    assert (
        entry.userId == operator.username
        and entry.details["note"] == "Agreed on the phone"
        and entry.details["conversation"] == conv.pk
    )


def test_recording_consent_writes_its_history_event_with_the_conversation_and_note(client_for, operator, new_phone):
    contact = customer(operator, new_phone, opted_in=False)
    conv = inbox_data.conversation(contact.phone)
    client_for(operator).post(
        f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/consent/", {"confirmed": "on", "note": "Said yes in chat"}
    )
    [event] = contact_queries.consent_history(contact.contactId, "whatsapp")[:1]
    assert (event.optedIn, event.actor, event.source, event.detail) == (True, operator.username, "operator", "inbox")
    assert event.evidence == {"conversation": conv.pk, "note": "Said yes in chat"}


def test_a_viewer_cannot_record_consent(client_for, viewer, operator, new_phone):
    contact = customer(operator, new_phone, opted_in=False)
    conv = inbox_data.conversation(contact.phone)
    assert (
        client_for(viewer).post(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/consent/", {"confirmed": "on"}).status_code
        == 403
    )
    assert not Contact.get(contact.contactId, consistent_read=True).optInWhatsApp


# --- media -----------------------------------------------------------------------------------


def test_a_stored_file_opens_through_a_short_lived_link_and_a_missing_one_gets_none(
    client_for, viewer, numbers, new_phone
):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    key = f"{settings.MEDIA_INBOUND_PREFIX}test-{ULID()}.pdf"
    client("s3").put_object(
        Bucket=settings.MEDIA_BUCKET, Key=key, Body=b"%PDF-1.4 invoice", ContentType="application/pdf"
    )
    stored = inbox_data.message(
        conv,
        kind="document",
        text=None,
        filename="invoice.pdf",
        s3Bucket=settings.MEDIA_BUCKET,
        s3Key=key,
        minutes_ago=1,
    )
    pending = inbox_data.message(conv, kind="image", text=None, mediaId="media-not-downloaded-yet")
    link = inbox_queries.media_link(stored)
    expires = int(parse_qs(urlparse(link).query)["Expires"][0])
    assert 0 < expires - time.time() <= inbox_queries.MEDIA_LINK_SECONDS  # short-lived: minutes, not days
    assert requests.get(link, timeout=5).content == b"%PDF-1.4 invoice"
    assert inbox_queries.media_link(pending) is None
    html = client_for(viewer).get(f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/").content.decode()
    assert html.count("data-media") == 1 and "invoice.pdf" in html and "data-no-media" in html


def test_an_unknown_conversation_is_a_404(client_for, viewer):
    assert client_for(viewer).get("/dm/whatsapp~nosuchnumber~+14155550000/").status_code == 404
    assert client_for(viewer).get("/dm/whatsapp~not-a-conversation/").status_code == 404
    assert client_for(viewer).get("/dm/not-a-conversation/").status_code == 404
    # the old address redirects to the same 404
    assert client_for(viewer).get("/dm/whatsapp/not-a-conversation/", follow=True).status_code == 404
