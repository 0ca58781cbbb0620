"""The API accepts Cognito JWT bearer tokens: ID tokens issued to our client, access tokens for
our client, nothing else; the role comes from the token's groups."""

import uuid

import pytest
from django.test import Client

from wecare.models import AuditLog
from wecare.tests.signing import SigningKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    # An API client is not a browser: it has no CSRF cookie to send, and must not need one.
    return Client(enforce_csrf_checks=True)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_lets_a_viewer_id_token_list_contacts(api, user_pool):
    token = user_pool.token("id", **{"cognito:groups": ["Viewer"]})
    response = api.get("/api/contacts", **bearer(token))
    assert response.status_code == 200, response.content
    assert "items" in response.json()


def test_it_lets_an_access_token_for_our_client_list_contacts(api, user_pool):
    token = user_pool.token("access", **{"cognito:groups": ["Viewer"]})
    assert api.get("/api/contacts", **bearer(token)).status_code == 200


def test_it_refuses_an_id_token_issued_to_another_client(api, user_pool):
    token = user_pool.token("id", aud="another-client", **{"cognito:groups": ["Viewer"]})
    assert api.get("/api/contacts", **bearer(token)).status_code == 401


def test_it_refuses_an_access_token_for_another_client(api, user_pool):
    token = user_pool.token("access", client_id="another-client", **{"cognito:groups": ["Viewer"]})
    assert api.get("/api/contacts", **bearer(token)).status_code == 401


def test_it_refuses_an_expired_token(api, user_pool):
    token = user_pool.token("id", iat=1_600_000_000, exp=1_600_003_600, **{"cognito:groups": ["Viewer"]})
    assert api.get("/api/contacts", **bearer(token)).status_code == 401


def test_it_refuses_a_viewer_creating_a_contact_and_audits_the_denial(api, user_pool, new_phone):
    sub = str(uuid.uuid4())
    token = user_pool.token("id", sub=sub, **{"cognito:groups": ["Viewer"]})
    response = api.post(
        "/api/contacts", {"name": "Asha Rao", "phone": new_phone()}, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 403, response.content
    denials = list(AuditLog.scan((AuditLog.userId == sub) & (AuditLog.action == "access.denied")))
    assert [d.resourceId for d in denials] == ["/api/contacts"]


def test_it_lets_an_operator_access_token_create_a_contact(api, user_pool, new_phone):
    token = user_pool.token("access", **{"cognito:groups": ["Operator"]})
    response = api.post(
        "/api/contacts", {"name": "Asha Rao", "phone": new_phone()}, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 201, response.content


def test_it_keeps_the_email_from_the_last_login_when_an_access_token_is_used(api, user_pool, django_user_model):
    sub = str(uuid.uuid4())
    api.get(
        "/api/contacts",
        **bearer(user_pool.token("id", sub=sub, email="Asha@Example.com", **{"cognito:groups": ["Viewer"]})),
    )
    # Cognito access tokens carry no email.
    api.get("/api/contacts", **bearer(user_pool.token("access", sub=sub, **{"cognito:groups": ["Viewer"]})))
    assert django_user_model.objects.get(username=sub).email == "asha@example.com"


def test_it_still_wants_the_csrf_token_from_a_logged_in_browser(api, operator, new_phone):
    api.force_login(operator)
    response = api.post("/api/contacts", {"name": "Asha Rao", "phone": new_phone()}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_with_no_audience_configured_a_token_is_refused_before_any_key_fetch(api, user_pool, settings):
    settings.API_JWT_AUDIENCE = ""
    # A key id the pool does not publish: the JWKS client would fetch the key set to look for it.
    token = SigningKey("kid-nobody-published").sign(user_pool.claims("id", **{"cognito:groups": ["Viewer"]}))
    before = user_pool.jwks_fetches

    assert [api.get("/api/contacts", **bearer(token)).status_code for _ in range(3)] == [401, 401, 401]
    assert user_pool.jwks_fetches == before


def test_a_token_with_an_unknown_key_id_is_refused(api, user_pool):
    token = SigningKey("kid-nobody-published").sign(user_pool.claims("id", **{"cognito:groups": ["Viewer"]}))
    assert api.get("/api/contacts", **bearer(token)).status_code == 401
