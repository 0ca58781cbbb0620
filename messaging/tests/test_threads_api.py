"""/api/threads: SMS and email conversations over the API. Viewers list and read, operators reply
(through the send path, into the same conversation); bad input is a 4xx with its reason."""

from __future__ import annotations

import pytest
from ulid import ULID

from contacts import actions
from messaging.inbox import thread_queries as queries
from messaging.tests import thread_data

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def business(settings, new_phone):
    number = new_phone()
    settings.SMS_NUMBERS = [number]
    return number


def person(operator, new_phone, new_email, **fields):
    data = {"name": "Api Anu", "phone": new_phone(), "email": new_email(), **fields}
    return actions.create_contact(data, user=operator, source="test")


def test_a_viewer_lists_threads_and_reads_one(client_for, viewer, operator, business, new_phone, new_email):
    first, second = (person(operator, new_phone, new_email) for _ in range(2))
    thread_data.sms(business, first, "first")
    message = thread_data.sms(business, second, "second")
    api = client_for(viewer)
    page = api.get("/api/threads", {"channel": "sms", "business": business, "limit": 1}).json()
    assert page["business"] == business and business in page["inboxes"]
    [newest] = page["items"]
    assert (newest["customer"], newest["unreadCount"], newest["lastPreview"]) == (second.phone, 1, "second")
    rest = api.get("/api/threads", {"channel": "sms", "business": business, "cursor": page["nextCursor"]}).json()
    assert [t["customer"] for t in rest["items"]] == [first.phone]
    read = api.get(f"/api/threads/{queries.slug(message.threadId)}/messages").json()
    assert read["thread"]["thread"] == queries.slug(message.threadId)
    assert [(m["direction"], m["text"]) for m in read["items"]] == [("inbound", "second")]
    assert thread_data.thread_of(message).unreadCount == 1  # reading marks nothing read


def test_an_email_thread_reads_with_sanitised_html(client_for, viewer, operator, new_phone, new_email):
    address = f"help-{str(ULID()).lower()}@wecare.digital"
    contact = person(operator, new_phone, new_email)
    message = thread_data.email(address, contact, "hi", subject="Hello", html="<p>ok</p><script>x()</script>")
    api = client_for(viewer)
    page = api.get("/api/threads", {"channel": "email", "business": address}).json()
    assert [(t["subject"], t["customer"]) for t in page["items"]] == [("Hello", contact.email)]
    [item] = api.get(f"/api/threads/{queries.slug(message.threadId)}/messages").json()["items"]
    assert item["html"] == "<p>ok</p>" and item["subject"] == "Hello"


def test_an_operator_replies_and_the_reply_joins_the_thread(client_for, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInSms=True)
    message = thread_data.sms(business, contact, "open today?")
    slug = queries.slug(message.threadId)
    response = client_for(operator).post(f"/api/threads/{slug}/reply", {"text": "Until six"}, content_type=JSON)
    assert response.status_code == 202, response.content
    sent = response.json()
    assert sent["channel"] == "sms" and sent["sender"] == business  # the number the customer texted
    items = client_for(operator).get(f"/api/threads/{slug}/messages").json()["items"]
    assert [(m["direction"], m["text"]) for m in items] == [("inbound", "open today?"), ("outbound", "Until six")]


def test_a_refused_reply_is_a_422_with_the_gates_code(client_for, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email)  # no SMS opt-in
    slug = queries.slug(thread_data.sms(business, contact, "hi").threadId)
    response = client_for(operator).post(f"/api/threads/{slug}/reply", {"text": "hello"}, content_type=JSON)
    assert response.status_code == 422 and response.json()["code"] == "CONSENT_NEVER_GIVEN"


def test_a_viewer_cannot_reply(client_for, viewer, operator, business, new_phone, new_email):
    contact = person(operator, new_phone, new_email, optInSms=True)
    slug = queries.slug(thread_data.sms(business, contact, "hi").threadId)
    assert client_for(viewer).post(f"/api/threads/{slug}/reply", {"text": "x"}, content_type=JSON).status_code == 403


def test_bad_input_is_a_4xx_with_a_reason(client_for, operator, business, new_phone, new_email):
    api = client_for(operator)
    assert api.get("/api/threads", {"channel": "whatsapp"}).status_code == 422
    bad = api.get("/api/threads", {"channel": "sms", "business": "not-a-number"})
    assert bad.status_code == 422 and "E.164" in bad.json()["detail"][0]["msg"]
    assert api.get("/api/threads", {"channel": "sms", "business": business, "cursor": "forged"}).status_code == 422
    assert api.get("/api/threads/sms~nope/messages").status_code == 404
    assert api.post("/api/threads/email~nope/reply", {"text": "x"}, content_type=JSON).status_code == 404
    contact = person(operator, new_phone, new_email, optInSms=True)
    slug = queries.slug(thread_data.sms(business, contact, "hi").threadId)
    for body in ({"text": ""}, {"text": "x", "subject": "for email"}, {"text": "x" * 1601}, {"text": "x", "y": 1}):
        response = api.post(f"/api/threads/{slug}/reply", body, content_type=JSON)
        assert response.status_code == 422, (body, response.content)
