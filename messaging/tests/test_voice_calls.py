"""WhatsApp voice calls (the webhook's ``calls`` field) with Meta's shapes (``fixtures/calls/``,
sources in the README there): each event recorded once, in any order, through the signed webhook;
``GET /api/voice-calls`` with its filters and paging; the call on the contact page and in the
conversation's timeline."""

from __future__ import annotations

import copy
import json
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from contacts.models import Contact
from messaging.inbound.process import process
from messaging.inbox import queries as inbox_queries
from messaging.models import VoiceCall
from messaging.tests.inbound_samples import inbound, load
from messaging.tests.sns_signing import notification, sns_test_certificates  # noqa: F401 (a fixture)
from wecare import dlq

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
CALLS = Path(__file__).parent / "fixtures" / "calls"
BUSINESS_DIGITS = "16315553601"  # the sample context's business number, as Meta writes it


def meta_entry(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((CALLS / f"{name}.json").read_text())["entry"][0])


def eum_event(entry: dict[str, Any]) -> str:
    """The SNS Message EUM publishes for one Meta entry (the shared sample's WABA and number)."""
    return json.dumps(
        {**load("inbound_text"), "whatsAppWebhookEntry": json.dumps(entry), "messageId": str(uuid.uuid4())}
    )


def call_of(entry: dict[str, Any]) -> dict[str, Any]:
    value = entry["changes"][0]["value"]
    return (value.get("calls") or value.get("statuses"))[0]


def customer_connect(call_id: str, customer: str, at: int) -> dict[str, Any]:
    """pywa's user-initiated connect, for this call and customer."""
    entry = meta_entry("pywa_call_connect_user_initiated")
    value = entry["changes"][0]["value"]
    value["contacts"][0].update({"wa_id": customer.lstrip("+"), "user_id": None, "parent_user_id": None})
    call_of(entry).update({"id": call_id, "from": customer.lstrip("+"), "timestamp": str(at)})
    return entry


def terminate(call_id: str, customer: str, *, direction: str, started: int, ended: int, status: str = "COMPLETED"):
    """pywa's terminate (Meta's reference values), given this call's id, numbers and times."""
    entry = meta_entry("pywa_call_terminate")
    caller, callee = (customer, BUSINESS_DIGITS) if direction == "USER_INITIATED" else (BUSINESS_DIGITS, customer)
    call_of(entry).update(
        {
            "id": call_id,
            "from": caller.lstrip("+"),
            "to": callee.lstrip("+"),
            "direction": direction,
            "status": status,
            "timestamp": str(ended),
            "start_time": str(started),
            "end_time": str(ended),
            "duration": ended - started,
        }
    )
    return entry


def call_status(call_id: str, customer: str, status: str, at: int) -> dict[str, Any]:
    entry = meta_entry("pywa_call_status")
    call_of(entry).update({"id": call_id, "recipient_id": customer.lstrip("+"), "status": status, "timestamp": str(at)})
    return entry


def business_connect(call_id: str, customer: str, at: int) -> dict[str, Any]:
    entry = meta_entry("meta_call_connect_business_initiated")
    entry["changes"][0]["value"]["metadata"]["display_phone_number"] = BUSINESS_DIGITS
    call_of(entry).update({"id": call_id, "from": BUSINESS_DIGITS, "to": customer.lstrip("+"), "timestamp": str(at)})
    return entry


def deliver(client, settings, entry: dict[str, Any]) -> str:
    """Sign and post the entry as SNS would; the body, to look for it on the DLQ."""
    body = eum_event(entry)
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN)
    response = client.post("/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    assert response.status_code == 200
    return body


def stored(call_id: str) -> VoiceCall:
    return VoiceCall.get(call_id, consistent_read=True)


def new_call_id() -> str:
    return f"wacid.TEST{uuid.uuid4().hex}"


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def when(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture
def span_start() -> int:
    """A start time of this test's own (a random day in 2001 to 2020), so time filters over the
    whole table see only this test's calls (moto keeps data for the session)."""
    return epoch(datetime(2001, 1, 1, tzinfo=UTC)) + random.randrange(0, 20 * 365) * 86400


def test_a_customers_call_is_recorded_from_connect_to_terminate_once(client, settings, new_phone, span_start):
    customer, call_id = new_phone(), new_call_id()
    connect = customer_connect(call_id, customer, span_start)

    body = deliver(client, settings, connect)
    call = stored(call_id)
    contact = Contact.get(call.contactId)
    assert (call.direction, call.status, call.startedAt, call.customer) == (
        "inbound",
        "ringing",
        when(span_start),
        customer,
    )
    assert (contact.phone, contact.name, contact.optInWhatsApp) == (customer, "Test Name", False)
    suffix = load("inbound_text")["context"]["MetaPhoneNumberIds"][0]["arn"].rsplit("/", 1)[-1]
    assert call.conversationPk == f"CONV#{suffix}#{customer}" and call.phoneNumberId == f"phone-number-id-{suffix}"

    deliver(client, settings, connect)  # SNS delivers it again: nothing changes
    assert stored(call_id).serialize() == call.serialize()

    ended = terminate(call_id, customer, direction="USER_INITIATED", started=span_start + 5, ended=span_start + 125)
    deliver(client, settings, ended)
    deliver(client, settings, ended)
    done = stored(call_id)
    assert (done.status, done.durationSeconds, done.startedAt, done.endedAt, done.errors) == (
        "completed",
        120,
        when(span_start),  # when the customer called, not when the call was answered
        when(span_start + 125),
        None,  # the sample's errors beside a completed call are not the call's
    )
    assert done.seenEvents == {"connect", "terminate"} and done.contactId == contact.contactId
    parked = [r.originalMessageId for r in dlq.records("inbound-dlq")]
    wanted = dlq.fingerprint("messaging.process_inbound_event", [], {"message": body, "sns_message_id": None})
    assert wanted not in parked


def test_events_out_of_order_end_the_call_right(client, settings, new_phone, span_start):
    customer, call_id = new_phone(), new_call_id()
    # The business calls: the end arrives first, then the answer, then the connect and a late ringing.
    deliver(
        client,
        settings,
        terminate(call_id, customer, direction="BUSINESS_INITIATED", started=span_start + 9, ended=span_start + 70),
    )
    assert (stored(call_id).status, stored(call_id).startedAt) == ("completed", when(span_start + 9))
    deliver(client, settings, call_status(call_id, customer, "ACCEPTED", span_start + 9))
    deliver(client, settings, business_connect(call_id, customer, span_start))
    deliver(client, settings, call_status(call_id, customer, "RINGING", span_start + 2))
    call = stored(call_id)
    assert (call.status, call.direction, call.durationSeconds) == ("completed", "outbound", 61)
    assert call.startedAt == when(span_start)  # the connect's time wins over the terminate's start
    assert call.seenEvents == {"terminate", "status:accepted", "connect", "status:ringing"}
    assert call.customer == customer


def test_call_statuses_move_only_forward_and_each_is_applied_once(new_phone, span_start):
    customer, call_id = new_phone(), new_call_id()
    assert process(eum_event(business_connect(call_id, customer, span_start)))["changes"] == {"calls:recorded": 1}
    assert process(eum_event(call_status(call_id, customer, "ACCEPTED", span_start + 3)))["changes"] == {
        "calls:recorded": 1
    }
    late = eum_event(call_status(call_id, customer, "RINGING", span_start + 1))
    assert process(late)["changes"] == {"calls:recorded": 1}  # seen, but it does not move the call back
    assert process(late)["changes"] == {"calls:duplicate": 1}
    assert stored(call_id).status == "accepted"
    failed = terminate(call_id, customer, direction="BUSINESS_INITIATED", started=span_start, ended=span_start + 4)
    call_of(failed)["status"] = "FAILED"
    assert process(eum_event(failed))["changes"] == {"calls:recorded": 1}
    call = stored(call_id)
    assert call.status == "failed" and call.errors == failed["changes"][0]["value"]["errors"]


def test_a_ringing_status_arriving_first_gives_the_call_its_status(new_phone, span_start):
    """RINGING is the lowest status: no status is lower, which left a call it reached first with
    none (not listed under ?status=ringing) until a later event."""
    customer, call_id = new_phone(), new_call_id()
    assert process(eum_event(call_status(call_id, customer, "RINGING", span_start)))["changes"] == {"calls:recorded": 1}
    assert stored(call_id).status == "ringing"
    process(eum_event(business_connect(call_id, customer, span_start)))
    assert stored(call_id).status == "ringing"


def test_a_rejected_call_stays_rejected_whichever_of_its_status_and_terminate_comes_first(new_phone, span_start):
    """Meta sends REJECTED and a terminate for a call the customer refused: the terminate's status
    must not hide the refusal (?status=rejected found no real call)."""
    for order in ("status first", "terminate first"):
        customer, call_id = new_phone(), new_call_id()
        rejected = eum_event(call_status(call_id, customer, "REJECTED", span_start + 2))
        ended = terminate(call_id, customer, direction="BUSINESS_INITIATED", started=span_start, ended=span_start + 3)
        call_of(ended)["status"] = "FAILED"
        bodies = [rejected, eum_event(ended)]
        for body in bodies if order == "status first" else reversed(bodies):
            assert process(body)["changes"] == {"calls:recorded": 1}
        call = stored(call_id)
        assert (call.status, call.endedAt) == ("rejected", when(span_start + 3)), order


def test_the_same_event_delivered_at_once_by_several_workers_is_applied_once(new_phone, span_start):
    customer, call_id = new_phone(), new_call_id()
    process(eum_event(customer_connect(call_id, customer, span_start)))
    body = eum_event(terminate(call_id, customer, direction="USER_INITIATED", started=span_start, ended=span_start + 9))
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = [summary["changes"] for summary in pool.map(lambda _: process(body), range(4))]
    expected = [{"calls:recorded": 1}] + [{"calls:duplicate": 1}] * 3  # one worker's write wins
    assert sorted(outcomes, key=str) == sorted(expected, key=str)
    assert (stored(call_id).status, stored(call_id).durationSeconds) == ("completed", 9)


def test_a_call_event_that_cannot_be_read_is_counted_not_parked(new_phone):
    entry = customer_connect(new_call_id(), new_phone(), 1_700_000_000)
    del call_of(entry)["id"]
    assert process(eum_event(entry))["changes"] == {"calls:malformed": 1}
    entry["changes"][0]["value"]["calls"] = "not a list"
    assert process(eum_event(entry))["changes"] == {"calls:malformed": 1}
    not_a_call = call_status(new_call_id(), new_phone(), "DELIVERED", 1_700_000_000)
    call_of(not_a_call)["type"] = "message"
    assert process(eum_event(not_a_call))["changes"] == {"calls:ignored": 1}


def record_calls(new_phone, span_start: int) -> tuple[str, list[str]]:
    """Four calls of one contact (two in, two out) and one of another, a minute apart; returns
    the contact's id and its call ids, newest first."""
    customer = new_phone()
    ids = []
    for n, kind in enumerate(("in", "out", "in", "out")):
        call_id, at = new_call_id(), span_start + 60 * n
        connect = customer_connect(call_id, customer, at) if kind == "in" else business_connect(call_id, customer, at)
        process(eum_event(connect))
        if n < 2:
            direction = "USER_INITIATED" if kind == "in" else "BUSINESS_INITIATED"
            process(eum_event(terminate(call_id, customer, direction=direction, started=at, ended=at + 30)))
        ids.append(call_id)
    process(eum_event(customer_connect(new_call_id(), new_phone(), span_start + 30)))
    return stored(ids[0]).contactId, list(reversed(ids))


def test_the_api_lists_calls_with_filters_and_cursor_paging(client_for, viewer, new_phone, span_start):
    contact_id, ids = record_calls(new_phone, span_start)
    api = client_for(viewer)
    window = {"from": when(span_start).isoformat(), "to": when(span_start + 3600).isoformat()}

    mine = api.get("/api/voice-calls", {"contactId": contact_id}).json()
    assert [c["callId"] for c in mine["items"]] == ids and mine["nextCursor"] is None
    first = mine["items"][-1]
    assert (first["direction"], first["status"], first["durationSeconds"], first["contactId"]) == (
        "inbound",
        "completed",
        30,
        contact_id,
    )
    everyone = api.get("/api/voice-calls", window).json()["items"]
    assert len(everyone) == 5 and [c["callId"] for c in everyone if c["contactId"] == contact_id] == ids
    outbound = api.get("/api/voice-calls", {**window, "direction": "outbound"}).json()["items"]
    assert [c["callId"] for c in outbound] == [ids[0], ids[2]]
    done = api.get("/api/voice-calls", {"contactId": contact_id, "status": "completed"}).json()["items"]
    assert [c["callId"] for c in done] == ids[2:]
    later = {"from": when(span_start + 90).isoformat(), "to": when(span_start + 3600).isoformat()}
    assert [
        c["callId"] for c in api.get("/api/voice-calls", {"contactId": contact_id, **later}).json()["items"]
    ] == ids[:2]

    seen, cursor = [], None
    while True:
        page = api.get("/api/voice-calls", {**window, "limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["callId"] for c in page["items"]]
        if not (cursor := page["nextCursor"]):
            break
    assert seen == [c["callId"] for c in everyone]


def test_the_api_refuses_bad_filters_with_a_422(client_for, viewer, nobody):
    api = client_for(viewer)
    assert api.get("/api/voice-calls", {"cursor": "forged"}).status_code == 422
    assert (
        api.get("/api/voice-calls", {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}).status_code == 422
    )
    assert api.get("/api/voice-calls", {"from": "2026-01-02T00:00:00"}).status_code == 422  # no time zone
    assert api.get("/api/voice-calls", {"direction": "sideways"}).status_code == 422
    assert client_for(nobody).get("/api/voice-calls").status_code == 403


def test_the_contact_page_and_the_conversation_show_the_call(client_for, viewer, settings, client, new_phone):
    customer, call_id = new_phone(), new_call_id()
    body, _message = inbound("inbound_text", phone=customer)
    process(body)
    at = epoch(datetime.now(UTC)) - 60  # after nothing older: the thread shows it with its message
    process(eum_event(customer_connect(call_id, customer, at)))
    process(eum_event(terminate(call_id, customer, direction="USER_INITIATED", started=at, ended=at + 95)))
    call = stored(call_id)
    web = client_for(viewer)

    page = web.get(reverse("contacts:detail", args=[call.contactId])).content.decode()
    assert reverse("messaging:calls", args=[call.contactId]) in page
    fragment = web.get(reverse("messaging:calls", args=[call.contactId])).content.decode()
    assert f'data-call="{call_id}"' in fragment and "1 min 35 s" in fragment and "Incoming" in fragment

    key = "whatsapp~" + inbox_queries.slug(call.conversationPk)
    thread = web.get(reverse("inbox:conversation", args=[key])).content.decode()
    assert f'data-call="{call_id}"' in thread and "Incoming WhatsApp call" in thread and "completed" in thread
    latest = web.get(reverse("inbox:latest", args=[key])).content.decode()
    assert f'data-call="{call_id}"' in latest

    for no_calls in ("01NOCALLS0000000000000000", "x" * 3000):
        nobody_calls = web.get(reverse("messaging:calls", args=[no_calls]))
        assert nobody_calls.status_code == 200 and b"<section" not in nobody_calls.content  # no empty card
