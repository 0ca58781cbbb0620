"""Every paged list refuses a cursor it did not issue: the API with 422 naming the cursor, pages by
starting again from the first page (or a 400 for the inbox's fragments), never a 500.

Cursors used to be base64 JSON checked for key names only, so one with the right names but
another DynamoDB type ({"N": "abc"}, {"N": "1"} where a string is expected) or an oversized value
reached DynamoDB and came back a 500. They are now signed per list (wecare.dynamo.Cursor).
Hypothesis forges them with the right key names and every DynamoDB type.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bulk import actions as bulk_actions
from bulk.audience import AudienceSpec
from contacts import actions
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from wecare.dynamo import Cursor, InvalidCursor
from wecare.tests.hypothesis_profiles import examples

pytestmark = pytest.mark.django_db

REFUSAL = "invalid cursor: start again from the first page"


def unsigned(value: object) -> str:
    """A cursor as they used to be issued, and as anyone can write one: base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_only_within_its_scope():
    key = {"contactId": {"S": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "createdAt": {"S": "2026-01-01T00:00:00"}}
    cursor = Cursor.encode(key, scope="a-list")

    assert Cursor.decode(cursor, scope="a-list") == key
    with pytest.raises(InvalidCursor, match=REFUSAL):
        Cursor.decode(cursor, scope="another-list")
    with pytest.raises(InvalidCursor):
        Cursor.decode(cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), scope="a-list")
    with pytest.raises(InvalidCursor):
        Cursor.decode(unsigned(key), scope="a-list")
    with pytest.raises(InvalidCursor):
        Cursor.decode("x" * (Cursor.MAX_LENGTH + 1), scope="a-list")
    assert (
        Cursor.encode(None, scope="a-list") is None
        and Cursor.decode(None, scope="a-list") is None
        and Cursor.decode("", scope="a-list") is None
    )


# --- every list, with a forged cursor -----------------------------------------------------------


@dataclass(frozen=True)
class PagedList:
    url: str  # "{cursor}" is replaced
    keys: tuple[str, ...]  # the LastEvaluatedKey names of its table and index
    refused: Callable  # (response) -> bool


def api_refusal(response) -> bool:
    """422 on the cursor: ours, or the schema's own length limit where an operation declares one."""
    return response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "cursor"]


def starts_over(path: str) -> Callable:
    return lambda response: response.status_code == 302 and response["Location"] == path


def bad_request(response) -> bool:
    return response.status_code == 400 and REFUSAL in response.content.decode()


@pytest.fixture
def paged_lists(operator, new_phone, settings) -> list[PagedList]:
    number = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    conv = inbox_data.conversation(new_phone(), number=number)
    slug = inbox_queries.slug(conv.pk)
    contact = actions.create_contact(
        {"name": "Cursor Cora", "phone": new_phone(), "optInSms": True}, user=operator, source="test"
    )
    job = bulk_actions.start_job(
        AudienceSpec(contact_ids=[contact.contactId]), {"text": "hi"}, channel="sms", sender=None, user=operator
    )
    live = ("contactId", "liveList", "createdAt")
    return [
        PagedList("/api/contacts?cursor={cursor}", live, api_refusal),
        PagedList("/api/contacts/search?q=cora&cursor={cursor}", live, api_refusal),
        PagedList("/contacts/?cursor={cursor}", live, starts_over("/contacts/")),
        PagedList(f"/api/inbox?number={number}&cursor={{cursor}}", ("pk", "inboxPk", "receivedAt"), api_refusal),
        PagedList(
            f"/dm/?channel=whatsapp&business={number}&cursor={{cursor}}", ("key", "status", "lastAt"), bad_request
        ),
        PagedList(f"/api/inbox/{slug}?cursor={{cursor}}", ("pk", "conversationPk", "receivedAt"), api_refusal),
        PagedList(f"/dm/whatsapp~{slug}/older/?cursor={{cursor}}", ("pk", "conversationPk", "receivedAt"), bad_request),
        PagedList("/admin/dynamo/audit/?cursor={cursor}", ("logId", "day"), starts_over("/admin/dynamo/audit/")),
        PagedList("/admin/dynamo/contacts/?cursor={cursor}", ("contactId",), starts_over("/admin/dynamo/contacts/")),
        PagedList("/api/messages?cursor={cursor}", ("messageId",), api_refusal),
        PagedList(
            f"/api/messages?contactId={contact.contactId}&cursor={{cursor}}",
            ("messageId", "contactId", "timestamp"),
            api_refusal,
        ),
        PagedList("/api/bulk/jobs?cursor={cursor}", ("jobId",), api_refusal),
        PagedList(f"/api/bulk/jobs/{job.jobId}/recipients?cursor={{cursor}}", ("jobId", "recipientId"), api_refusal),
    ]


attribute_values = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=30)),
    st.builds(lambda s: {"S": s}, st.just("x" * 3000)),  # over DynamoDB's 2048-byte partition key
    st.builds(lambda s: {"N": s}, st.sampled_from(["abc", "1", "-0", "1e400", "NaN", ""])),
    st.builds(lambda s: {"B": s}, st.sampled_from(["AAAA", "not base64"])),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.just({"M": {"S": {"S": "x"}}}),
    st.just({"L": [{"S": "x"}]}),
    st.builds(lambda a, b: {"S": a, "N": b}, st.text(max_size=5), st.just("1")),
)


@given(data=st.data())
@hypothesis_settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
def test_a_forged_cursor_with_the_right_key_names_is_refused_everywhere(client_for, admin_user, paged_lists, data):
    client = client_for(admin_user)
    paged = data.draw(st.sampled_from(paged_lists))
    key = {name: data.draw(attribute_values) for name in paged.keys}
    cursor = data.draw(st.sampled_from([unsigned(key), unsigned(key) + "==", json.dumps(key)]))

    response = client.get(paged.url.format(cursor=cursor))

    assert paged.refused(response), (paged.url, str(key)[:300], response.status_code, response.content[:300])


@given(cursor=st.text(max_size=50) | st.just("x" * 5000))
@hypothesis_settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
def test_any_text_as_a_cursor_is_refused_on_the_contacts_api(client_for, admin_user, cursor):
    response = client_for(admin_user).get("/api/contacts", {"cursor": cursor})

    if cursor == "":
        assert response.status_code == 200
    else:
        assert api_refusal(response) and response.json()["detail"][0]["msg"] == REFUSAL, (
            cursor[:100],
            response.content[:300],
        )


def test_a_cursor_from_one_conversation_is_refused_in_another(client_for, viewer, new_phone):
    first, second = (inbox_data.conversation(new_phone()) for _ in range(2))
    for _ in range(3):
        inbox_data.inbound(first)
    api = client_for(viewer)
    older = api.get(f"/api/inbox/{inbox_queries.slug(first.pk)}", {"limit": 1}).json()["olderCursor"]
    assert older

    assert api.get(f"/api/inbox/{inbox_queries.slug(first.pk)}", {"limit": 1, "cursor": older}).status_code == 200
    assert api_refusal(api.get(f"/api/inbox/{inbox_queries.slug(second.pk)}", {"limit": 1, "cursor": older}))


def test_a_cursor_from_one_audit_day_is_refused_on_another(client_for, admin_user):
    admin = client_for(admin_user)
    day_cursor = Cursor.encode(
        {"logId": {"S": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "day": {"S": "2026-01-01"}}, scope="audit:2026-01-01"
    )

    assert admin.get("/admin/dynamo/audit/", {"day": "2026-01-01", "cursor": day_cursor}).status_code == 200
    assert starts_over("/admin/dynamo/audit/")(
        admin.get("/admin/dynamo/audit/", {"day": "2026-01-02", "cursor": day_cursor})
    )


def test_the_messages_of_a_conversation_page_back_with_the_cursors_they_hand_out(client_for, viewer, new_phone):
    conv = inbox_data.conversation(new_phone())
    sent = [inbox_data.inbound(conv, f"message {i}", minutes_ago=10 - i).pk.removeprefix("MSG#") for i in range(5)]
    api = client_for(viewer)
    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(
            f"/api/inbox/{inbox_queries.slug(conv.pk)}", {"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen = [m["waMessageId"] for m in page["items"]] + seen
        cursor = page["olderCursor"]
        if not cursor:
            break
    assert seen == sent
