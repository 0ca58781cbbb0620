"""Every page and every API operation, sent malformed query strings and malformed bodies by a
viewer, an operator and an admin: whatever the answer, it is never a 5xx.

Pages and operations are enumerated as ``test_access_sweep.py`` does (from the URL resolver and
the NinjaAPI), so a new endpoint is swept without anyone adding it here. Path parameters name
real things where a name is known (a live contact, a conversation, a finished bulk job, an
allowlisted number), so the malformed input reaches the code behind the lookup.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from wecare.tests.test_access_sweep import api_operations

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

PERSONAS = ["viewer", "operator", "admin_user"]


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# Each a query string that once broke, or could: a cursor with the right names and wrong types,
# an unknown channel, huge values, bytes that are not UTF-8, PHP/Rails-style nested names.
FORGED_CURSOR = _b64(
    {"contactId": {"N": "abc"}, "liveList": {"S": "LIVE"}, "createdAt": {"N": "1"}, "pk": {"S": "x" * 3000}}
)
MALFORMED_QUERIES = {
    "bad-cursor": f"cursor={FORGED_CURSOR}",
    "cursor-not-base64": "cursor=%25%25%25%00",
    "channel-fax": "channel=fax&kind=weird&action=send",
    "huge": "q="
    + "x" * 20_000
    + "&limit=99999999999999999999999&days=-99999999999999999999&day=99999-99-99&number="
    + "9" * 500,
    "unicode": "q=%00%F0%9F%98%80%FF%FE%ED%A0%80&day=%E2%80%AE2024-01-01&cursor=%C0%AF&number=%EF%BF%BF",
    "nested": "a[b][c]=1&a[]=2&q[]=x&cursor[]=y&channel[]=sms&limit[]=1&contactId[$ne]=1",
    "repeated": "cursor=a&cursor=b&channel=sms&channel=fax&q=1&q=2&archived=maybe&archived=true",
    "polling": "since=not-a-time&seen=" + "z" * 3000 + "&archived=maybe&number=phone-number-id-nope",
}

# One field over the csv module's 131072-character limit.
LONG_CSV_FIELD = "phone,param1\n+14155550123," + "x" * 140_000 + "\n"

# Form fields named after what the pages read, each holding something wrong.
JUNK_FORM = {
    "channel": "fax",
    "sender": "\x00",
    "kind": "weird",
    "action": "send",
    "text": "x" * 20_000,
    "cursor": FORGED_CURSOR,
    "configKey": "sweep-\u202e",
    "configValue": "[" * 5000,
    "queue": "nope",
    "max": "-1",
    "name": "\x00\u202e",
    "phone": "+0",
    "email": "@",
    "search": "%",
    "csv_text": LONG_CSV_FIELD,
    "confirm": "maybe",
    "template": "nope",
    "rows": "||||",
    "cooldownHours": "1e400",
    "enabled": "perhaps",
    "previewedCount": "-1",
    "start_key": "\x00",
}

# Bodies sent as application/json, to pages and operations alike.
JUNK_JSON = {
    "empty-object": "{}",
    "null": "null",
    "truncated": '{"phone": "+1415',
    "too-deep": '{"a": ' + "[" * 5000,
    "wrong-types": json.dumps(
        {
            "phone": 12345,
            "name": ["x"],
            "channel": {"a": 1},
            "audience": "all",
            "message": 7,
            "action": None,
            "limit": 1e300,
        }
    ),
    "huge-values": json.dumps(
        {"name": "x" * 100_000, "phone": "9" * 5000, "text": "x" * 100_000, "contactIds": ["x" * 1000] * 100}
    ),
    "unicode": '{"name": "\\ud800", "phone": "\\u0000", "text": "\\udfff\\ud800", "channel": "whats\\u0000app"}',
    "big-numbers": '{"limit": 1e999, "previewedCount": 123456789012345678901234567890, "cooldownHours": -1e999}',
    "csv-long-field": json.dumps({"audience": {"csv": LONG_CSV_FIELD}, "channel": "sms", "message": {"text": "hi"}}),
}

# Known 5xx still to be fixed elsewhere, by test id, marked strict xfail so the sweep fails (and the
# mark is removed) once the fix lands. Empty: every case must answer without a server error.
KNOWN_ELSEWHERE: dict[str, str] = {}


# --- what is swept ----------------------------------------------------------------------------


def _routes() -> Iterator[str]:
    def walk(patterns, prefix: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return walk(get_resolver().url_patterns, "")


def page_routes() -> list[str]:
    """Every page route with its parameters still named; the API is swept by operation."""
    return sorted({"/" + r for r in _routes() if not r.startswith("api/") or r.startswith(("api/docs", "api/openapi"))})


def _concrete(route: str, world: dict[str, str]) -> str:
    # The Django admin's regex routes: the first alternative of each named group.
    route = re.sub(r"\(\?P<\w+>([^)|]*)[^)]*\)", lambda m: m.group(1).replace(".*", "") or "x", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: world.get(m.group(1), "01NOTAREALID0000000000000"), route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


_WORLD: dict[str, str] = {}


@pytest.fixture
def world(operator, new_phone) -> dict[str, str]:
    """Real ids for path parameters, made once (DynamoDB keeps them for the whole session)."""
    if not _WORLD:
        from bulk import actions as bulk_actions
        from bulk.audience import AudienceSpec
        from contacts import actions
        from messaging.inbox import queries as inbox_queries
        from messaging.tests import inbox_data

        contact = actions.create_contact(
            {
                "name": "Sweep Sam",
                "phone": new_phone(),
                "email": f"sweep-{new_phone()[1:]}@example.com",
                "optInSms": True,
            },
            user=operator,
            source="test",
        )
        conversation = inbox_data.conversation(contact.phone)
        inbox_data.inbound(conversation)
        job = bulk_actions.start_job(
            AudienceSpec(contact_ids=[contact.contactId]), {"text": "hi"}, channel="sms", sender=None, user=operator
        )
        _WORLD.update(
            contact_id=contact.contactId,
            conversation=inbox_queries.slug(conversation.pk),
            job_id=job.jobId,
            phone_number_id=settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        )
    return _WORLD


def _log_in(client, request, persona: str):
    client.force_login(request.getfixturevalue(persona))
    return client


def _server_errors(responses: Iterator[tuple[str, object]]) -> list[tuple[str, int]]:
    return [(what, response.status_code) for what, response in responses if response.status_code >= 500]


# --- pages --------------------------------------------------------------------------------------


def _page_cases() -> list:
    cases = []
    for route in page_routes():
        for persona in PERSONAS:
            case_id = f"{persona}:{route}"
            marks = (
                [pytest.mark.xfail(strict=True, reason=KNOWN_ELSEWHERE[case_id])] if case_id in KNOWN_ELSEWHERE else []
            )
            cases.append(pytest.param(route, persona, id=case_id, marks=marks))
    return cases


@pytest.mark.parametrize(("route", "persona"), _page_cases())
def test_a_page_answers_malformed_input_without_a_server_error(client, request, world, route, persona):
    path = _concrete(route, world)
    page = _log_in(client, request, persona)  # a logout route ends the session: the rest is then anonymous

    def sent() -> Iterator[tuple[str, object]]:
        for name, query in MALFORMED_QUERIES.items():
            yield f"GET ?{name}", page.get(f"{path}?{query}")
        yield "POST junk form", page.post(path, JUNK_FORM)
        for name, body in JUNK_JSON.items():
            yield f"POST json {name}", page.post(path, body, content_type="application/json")

    assert _server_errors(sent()) == []


# --- API operations ---------------------------------------------------------------------------


def _api_cases() -> list:
    cases = []
    for method, path, _role in api_operations():
        route = re.sub(r"01NOTAREALID\w+", lambda m: "{id}", path)
        for persona in PERSONAS:
            case_id = f"{persona}:{method} {route}"
            marks = (
                [pytest.mark.xfail(strict=True, reason=KNOWN_ELSEWHERE[case_id])] if case_id in KNOWN_ELSEWHERE else []
            )
            cases.append(pytest.param(method, path, persona, id=case_id, marks=marks))
    return cases


def _with_world(path: str, world: dict[str, str]) -> str:
    """The sample id of an operation's path replaced by the real thing its segment names."""
    for segment, name in (("/contacts/", "contact_id"), ("/inbox/", "conversation"), ("/jobs/", "job_id")):
        path = re.sub(re.escape(segment) + r"01NOTAREALID\w+", segment + world[name], path)
    return path


@pytest.mark.parametrize(("method", "path", "persona"), _api_cases())
def test_an_api_operation_answers_malformed_input_without_a_server_error(client, request, world, method, path, persona):
    path = _with_world(path, world)
    api = _log_in(client, request, persona)

    def sent() -> Iterator[tuple[str, object]]:
        for name, query in MALFORMED_QUERIES.items():
            yield f"?{name}", api.generic(method, f"{path}?{query}", "{}", content_type="application/json")
        for name, body in JUNK_JSON.items():
            yield f"json {name}", api.generic(method, path, body, content_type="application/json")
        yield "form body", api.generic(method, path, "a=1&b[]=2", content_type="application/x-www-form-urlencoded")

    assert _server_errors(sent()) == []
