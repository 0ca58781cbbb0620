"""/api/inbox: viewers read, operators act; refusals come back as 422 with the gate's code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from ulid import ULID

from contacts import actions
from contacts.models import Contact
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from wecare.aws import client
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def numbers(settings):
    fresh = [f"phone-number-id-{str(ULID()).lower()}" for _ in range(2)]
    settings.WHATSAPP_PHONE_NUMBER_IDS = fresh
    return fresh


def fresh(item):
    item.refresh(consistent_read=True)
    return item


def test_a_viewer_lists_a_numbers_conversations_page_by_page(client_for, viewer, numbers, new_phone):
    older, newer = (
        inbox_data.conversation(new_phone(), number=numbers[1], minutes_ago=5),
        inbox_data.conversation(new_phone(), number=numbers[1], unread=2),
    )
    api = client_for(viewer)
    first = api.get("/api/inbox", {"number": numbers[1], "limit": 1}).json()
    assert [c["conversation"] for c in first["items"]] == [inbox_queries.slug(newer.pk)] and first["items"][0][
        "unreadCount"
    ] == 2
    second = api.get("/api/inbox", {"number": numbers[1], "limit": 1, "cursor": first["nextCursor"]}).json()
    assert [c["conversation"] for c in second["items"]] == [inbox_queries.slug(older.pk)]
    assert api.get("/api/inbox", {"number": numbers[1], "archived": "true"}).json()["items"] == []


def test_bad_input_is_a_4xx_with_a_reason(client_for, viewer, numbers):
    api = client_for(viewer)
    assert api.get("/api/inbox", {"number": "phone-number-id-notours"}).status_code == 404
    assert api.get("/api/inbox", {"number": numbers[0], "cursor": "forged"}).status_code == 422
    assert api.get("/api/inbox/not-a-conversation").status_code == 404


def test_a_viewer_reads_the_timeline_with_media_links_and_marks_nothing(client_for, viewer, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    key = f"{settings.MEDIA_INBOUND_PREFIX}api-{ULID()}.jpg"
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=b"\xff\xd8jpeg", ContentType="image/jpeg")
    photo = inbox_data.message(conv, kind="image", text=None, s3Key=key, s3Bucket=settings.MEDIA_BUCKET, minutes_ago=1)
    inbox_data.inbound(conv, "words only")
    body = client_for(viewer).get(f"/api/inbox/{inbox_queries.slug(conv.pk)}").json()
    assert body["items"][0]["waMessageId"] == photo.pk.removeprefix("MSG#")
    assert body["items"][0]["mediaUrl"] and body["items"][1]["mediaUrl"] is None
    assert body["conversation"]["unreadCount"] == 1 and fresh(conv).unreadCount == 1


def test_an_operator_marks_read_and_a_viewer_may_not(client_for, viewer, operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    inbox_data.inbound(conv, "a")
    inbox_data.inbound(conv, "b")
    url = f"/api/inbox/{inbox_queries.slug(conv.pk)}/read"
    assert client_for(viewer).post(url).status_code == 403
    assert fresh(conv).unreadCount == 2
    response = client_for(operator).post(url)
    assert response.status_code == 200 and response.json() == {"unreadCount": 0, "markedMessages": 2}


def test_archive_and_unarchive(client_for, operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    api = client_for(operator)
    assert api.post(f"/api/inbox/{inbox_queries.slug(conv.pk)}/archive").json()["archived"] is True
    assert [
        c["conversation"] for c in api.get("/api/inbox", {"number": numbers[0], "archived": "true"}).json()["items"]
    ] == [inbox_queries.slug(conv.pk)]
    assert api.post(f"/api/inbox/{inbox_queries.slug(conv.pk)}/unarchive").json()["archived"] is False
    assert not fresh(conv).archived


def test_a_reply_outside_the_window_is_refused_with_its_code_and_inside_it_is_queued(client_for, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    conv = inbox_data.conversation(contact.phone)
    url = f"/api/inbox/{inbox_queries.slug(conv.pk)}/reply"
    api = client_for(operator)
    refused = api.post(url, {"text": "Hello"}, content_type=JSON)
    assert refused.status_code == 422 and refused.json()["code"] == "TEMPLATE_REQUIRED"
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=1))])
    sent = api.post(url, {"text": "Hello"}, content_type=JSON)
    assert sent.status_code == 202 and sent.json()["sender"] == conv.originationPhoneNumberId
    assert api.post(url, {}, content_type=JSON).status_code == 422  # neither text nor template


def test_consent_through_the_api_needs_confirmation_and_is_audited(client_for, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="test")
    conv = inbox_data.conversation(contact.phone)
    url = f"/api/inbox/{inbox_queries.slug(conv.pk)}/consent"
    api = client_for(operator)
    assert api.post(url, {"confirmed": False}, content_type=JSON).status_code == 422
    response = api.post(url, {"confirmed": True, "note": "asked in chat"}, content_type=JSON)
    assert response.status_code == 200 and response.json() == {
        "contactId": contact.contactId,
        "optInWhatsApp": True,
        "changedBy": operator.username,
        "source": "inbox",
    }
    assert [
        e.details["note"]
        for e in AuditLog.scan(AuditLog.action == "contact.consent.whatsapp")
        if e.resourceId == contact.contactId
    ] == ["asked in chat"]


def test_anonymous_callers_get_401(client, numbers):
    assert client.get("/api/inbox").status_code == 401
