"""Property-based checks of the whole API from its own OpenAPI schema: whatever schemathesis sends
(valid and invalid requests alike), a logged-in person's request never gets a 5xx.

The schema is read from the Django WSGI app, and requests go to the same app in-process,
authenticated the way the browser does it: the session cookie plus the CSRF cookie and header.
Random contact ids almost always miss, so each case that names a contact is sent a second time
at a real one (a live contact; for restore, a deleted one and an admin's session), and each that
names an SMS or email conversation at a real conversation.
"""

from __future__ import annotations

import base64
import json
import os
import random

import phonenumbers
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from contacts import actions, queries
from messaging.inbox import thread_queries
from messaging.tests import thread_data
from wecare.api import api
from wecare.tests.hypothesis_profiles import examples

# The WSGI handler closes the database connection after each request, which only a
# transactional test database survives.
pytestmark = pytest.mark.django_db(transaction=True)

CSRF_SECRET = "schemathesisCsrfSecret0123456789"  # any 32 letters/digits is a valid secret

# Built at import (pytest-django has set Django up by then), so each operation becomes its own
# parametrized test; the app is attached so cases are sent to it in-process. (/api/openapi.json
# itself needs a login, which an import-time request has not got.)
schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


def _session_of(user) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_SECRET},
        "headers": {"X-CSRFToken": CSRF_SECRET},
    }


@pytest.fixture
def sessions(operator, admin_user):
    return {"operator": _session_of(operator), "admin": _session_of(admin_user)}


_own_random = random.SystemRandom()  # Hypothesis reseeds the global `random` for every example


def _unused_phone() -> str:
    """A valid number no contact has: the shared new_phone fixture draws from the global
    `random`, which Hypothesis seeds the same way in every test, so it repeats across them."""
    while True:
        candidate = f"+1415{_own_random.randint(2000000, 9999999)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)) and not queries.find_live_by_phone(candidate):
            return candidate


@pytest.fixture
def real_contact(operator):
    """A fresh contact for each call: live, or already deleted."""

    def make(*, deleted: bool = False) -> str:
        contact = actions.create_contact(
            {"name": "Schema Thesis", "phone": _unused_phone()}, user=operator, source="api"
        )
        if deleted:
            actions.delete_contact(contact.contactId, user=operator)
        return contact.contactId

    return make


@pytest.fixture
def real_thread(operator):
    """An SMS conversation with a live contact (who has not opted in, so a generated reply reaches
    the gate and is refused there rather than queued by the hundred), named as the API names it.
    Made on the first call and the same for the rest of the operation's examples: only the
    operations that name a thread call it (every operation's test asks for the fixture)."""
    made: list[str] = []

    def slug() -> str:
        if not made:
            phone, business = _unused_phone(), _unused_phone()
            contact = actions.create_contact({"name": "Schema Thread", "phone": phone}, user=operator, source="api")
            message = thread_data.sms(business, contact, "a customer's text")
            made.append(thread_queries.slug(message.threadId or ""))
        return made[0]

    return slug


def _send(case, session) -> None:
    case.call_and_validate(cookies=session["cookies"], headers=session["headers"], checks=[not_a_server_error])


# Examples per operation: 100 under a full hypothesis profile, the bar the hardening issue set; a
# tenth under HYPOTHESIS_PROFILE=fast. SCHEMATHESIS_EXAMPLES sets it for one run (fewer while
# iterating, more for a deep soak).
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES") or examples(100))
# Operations whose whole input is one path segment (an id, a conversation key), or nothing: about
# a third of the operations, all fed by the same strategy, one string that the URL resolver has
# already cut at "/". Schemathesis's coverage phase sends that string's edge values to each of them
# whatever the count (wrong types, lengths, unicode), and each case naming a contact or a
# conversation is sent again at a real one; past that, a hundred random strings per operation drew
# the same kinds of string again (no fuzz find so far was on one of these operations: the ones
# found were in query strings and bodies). A quarter of the count, so the time goes to the
# operations with query strings and bodies, which keep the full count.
ONE_SEGMENT_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES") or examples(25))


def _one_segment_at_most(ctx) -> bool:
    """No request body and no parameter but (at most) one in the path."""
    raw = ctx.operation.definition.raw
    parameters = raw.get("parameters", [])
    return "requestBody" not in raw and all(p["in"] == "path" for p in parameters) and len(parameters) <= 1


@pytest.mark.fuzz
@schema.exclude(_one_segment_at_most).parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_from_an_operator_gets_a_server_error(case, sessions, real_contact, real_thread):
    _check(case, sessions, real_contact, real_thread)


@pytest.mark.fuzz
@schema.include(_one_segment_at_most).parametrize()
@settings(max_examples=ONE_SEGMENT_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_naming_one_path_segment_gets_a_server_error(case, sessions, real_contact, real_thread):
    _check(case, sessions, real_contact, real_thread)


def _check(case, sessions, real_contact, real_thread) -> None:
    _send(case, sessions["operator"])
    if "thread" in (case.path_parameters or {}):
        at_real_thread = case.operation.Case(
            method=case.method,
            path_parameters={**case.path_parameters, "thread": real_thread()},
            headers=case.headers,
            query=case.query,
            body=case.body,
            media_type=case.media_type,
        )
        _send(at_real_thread, sessions["operator"])
    if "contact_id" in (case.path_parameters or {}):
        restoring = case.path.endswith("/restore")
        at_real_contact = case.operation.Case(
            method=case.method,
            path_parameters={**case.path_parameters, "contact_id": real_contact(deleted=restoring)},
            headers=case.headers,
            query=case.query,
            body=case.body,
            media_type=case.media_type,
        )
        _send(at_real_contact, sessions["admin" if restoring else "operator"])


# Regressions: each a request that once got a 500.


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "forged",
    [
        {"contactId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},  # not DynamoDB's attribute-value shape
        {"a": {"S": "1"}},  # not the index's key names
        {"contactId": {"S": "x"}, "liveList": {"S": "DEAD"}, "createdAt": {"S": "2024-01-01"}},  # another partition
        {"contactId": {"S": ""}, "liveList": {"S": "LIVE"}, "createdAt": {"S": "2024-01-01"}},  # empty key value
    ],
)
@pytest.mark.parametrize("path", ["/api/contacts?cursor=", "/api/contacts/search?q=someone&cursor="])
def test_a_forged_cursor_is_refused_with_422_not_a_server_error(client_for, operator, path, forged):
    response = client_for(operator).get(path + _cursor(forged))
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_the_contacts_page_with_a_forged_cursor_starts_over_instead_of_failing(client_for, viewer):
    response = client_for(viewer).get("/contacts/?cursor=" + _cursor({"contactId": "x"}))
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"


def test_a_cursor_the_server_issued_still_pages_on(client_for, operator, new_phone):
    api = client_for(operator)
    for _ in range(3):
        assert api.post("/api/contacts", {"phone": new_phone()}, content_type="application/json").status_code == 201
    first = api.get("/api/contacts?limit=2").json()
    assert first["nextCursor"]
    second = api.get(f"/api/contacts?limit=2&cursor={first['nextCursor']}")
    assert second.status_code == 200, second.content
    assert {c["contactId"] for c in second.json()["items"]}.isdisjoint(c["contactId"] for c in first["items"])
