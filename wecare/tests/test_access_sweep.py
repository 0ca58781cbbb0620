"""Every URL pattern and every API operation, for anonymous, no-role, viewer, operator and admin.

The lists are enumerated from the URL resolver and from the NinjaAPI itself (cross-checked with
the OpenAPI schema), so a new endpoint is swept without anyone remembering to add it here.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from wecare.api import api
from wecare.api_auth import SessionRole
from wecare.roles import ACCESS_ATTR, PUBLIC, Role

pytestmark = pytest.mark.django_db

SAMPLE = {
    "int": "1",
    "str": "01NOTAREALID0000000000000",
    "path": "x",
    "slug": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


# Views that answer 403 by design to a request missing its parameters get them here.
QUERY = {"/admin/autocomplete/": "?app_label=auth&model_name=user&field_name=groups&term=a"}


def _concrete(route: str) -> str:
    # regex patterns (the Django admin's): take the first alternative of each named group
    route = re.sub(r"\(\?P<\w+>([^)|]*)[^)]*\)", lambda m: m.group(1).replace(".*", "") or "x", route)
    route = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLE[m.group(1) or "str"], route)
    return route.replace("^", "").replace("$", "").replace("\\", "")


def page_urls() -> list[tuple[str, object]]:
    found = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append(("/" + _concrete(prefix + str(p.pattern)), p.callback))

    walk(get_resolver().url_patterns, "")
    return [
        (path, view)
        for path, view in found
        if not path.startswith("/api/") or path.startswith(("/api/docs", "/api/openapi"))
    ]


def api_operations() -> list[tuple[str, str, Role]]:
    operations = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                roles = {cb.role for cb in operation.auth_callbacks if isinstance(cb, SessionRole)}
                assert len(roles) == 1, f"{path}: every operation names exactly one role"
                # A nested router's prefix comes without its leading slash ("ai/suggestions").
                full = ("/api/" + (prefix + path if prefix else path)).replace("//", "/")
                for method in operation.methods:
                    operations.append(
                        (
                            method,
                            _concrete(full.replace("{", "<").replace("}", ">")),
                            roles.pop() if len(roles) == 1 else next(iter(roles)),
                        )
                    )
    return operations


def needed_role(path: str, view) -> Role | str | None:
    declared = getattr(view, ACCESS_ATTR, None)
    if path.startswith(("/oidc/", "/static/")) or declared == PUBLIC:
        return PUBLIC
    if path.startswith("/api/"):
        return Role.VIEWER  # docs and schema
    if path.startswith("/admin/"):
        return declared or Role.ADMIN
    return declared


def test_every_page_view_declares_an_access_rule():
    undeclared = [path for path, view in page_urls() if needed_role(path, view) is None]
    assert undeclared == []


def test_the_api_schema_lists_exactly_the_operations_swept():
    schema_paths = {p.rstrip("/") for p in api.get_openapi_schema()["paths"]}
    swept = {re.sub(r"/01NOTAREALID\w+", "/{contact_id}", path).rstrip("/") for _, path, _ in api_operations()}
    assert swept == {re.sub(r"\{\w+\}", "{contact_id}", p) for p in schema_paths}


PERSONAS = ["anonymous", "nobody", "viewer", "operator", "admin_user"]
LEVEL = {"nobody": None, "viewer": Role.VIEWER, "operator": Role.OPERATOR, "admin_user": Role.ADMIN}


@pytest.fixture
def as_persona(request, client):
    def make(name: str):
        if name != "anonymous":
            client.force_login(request.getfixturevalue(name))
        return client

    return make


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_allow_exactly_the_roles_they_declare(persona, as_persona):
    client = as_persona(persona)
    wrong = []
    for path, view in page_urls():
        needed = needed_role(path, view)
        response = client.get(path + QUERY.get(path, ""))
        status = response.status_code
        if status >= 500:
            wrong.append((path, status, "server error"))
        elif needed == PUBLIC:
            continue
        elif persona == "anonymous":
            if not (status == 302 and "/accounts/login/" in response["Location"]):
                wrong.append((path, status, "anonymous not sent to login"))
        elif LEVEL[persona] is None or LEVEL[persona] < needed:
            if status != 403:
                wrong.append((path, status, f"expected 403 for {persona}"))
        elif status == 403:
            wrong.append((path, status, f"{persona} refused"))
    assert wrong == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_operations_allow_exactly_their_role(persona, as_persona):
    client = as_persona(persona)
    wrong = []
    for method, path, needed in api_operations():
        response = client.generic(method, path, "{}", content_type="application/json")
        status = response.status_code
        if status >= 500:
            wrong.append((method, path, status, "server error"))
        elif persona == "anonymous":
            if status != 401:
                wrong.append((method, path, status, "expected 401"))
        elif LEVEL[persona] is None or LEVEL[persona] < needed:
            if status != 403:
                wrong.append((method, path, status, f"expected 403 for {persona}"))
        elif status in (401, 403):
            wrong.append((method, path, status, f"{persona} refused"))
    assert wrong == []


def test_a_denial_is_logged_and_audited(client, viewer, caplog):
    from wecare.models import AuditLog

    client.force_login(viewer)
    with caplog.at_level("WARNING", logger="wecare.access"):
        response = client.get("/contacts/new/")
    assert response.status_code == 403
    record = next(r for r in caplog.records if r.getMessage() == "access denied")
    assert (record.user, record.path) == (viewer.username, "/contacts/new/")
    entries = [
        e
        for e in AuditLog.scan(AuditLog.action == "access.denied")
        if e.userId == viewer.username and e.resourceId == "/contacts/new/"
    ]
    assert entries and entries[-1].details["reason"] == "needs operator, has viewer"
