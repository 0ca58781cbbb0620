"""Logging in: through the SSO button and a real OIDC provider (in Chromium), and with the
password form of the local stack."""

import uuid

import pytest

from wecare.models import User as UserRecord

SSO_BUTTON = "Sign in with WECARE.DIGITAL SSO"


def sign_in_with_sso(page, app_url: str, provider, username: str, password: str):
    """Click the SSO button, sign in at the provider if it asks, consent if it asks; return the
    response of the app page the browser lands on."""
    page.goto(f"{app_url}/accounts/login/")
    page.get_by_role("link", name=SSO_BUTTON).click()
    page.wait_for_url(f"{provider.base_url}/**")
    with page.expect_navigation(url=lambda url: url.startswith(app_url)) as landing:
        if page.locator("#provider-login").is_visible():
            page.fill("#provider-login input[name=username]", username)
            page.fill("#provider-login input[name=password]", password)
            page.click("#provider-login button[type=submit]")
            page.wait_for_url(lambda url: not url.startswith(f"{provider.base_url}/accounts/login/"))
        if page.url.startswith(provider.base_url):
            page.get_by_role("button", name="Authorize").click()
    return landing.value


@pytest.fixture
def provider_user(sso):
    """A fresh person at the provider (its database lives as long as the test session)."""

    def make(*groups: str) -> dict[str, str]:
        name = f"sso-{uuid.uuid4().hex[:8]}"
        person = {"username": name, "password": f"pw-{name}", "email": f"{name}@example.com"}
        sso.set_user(person["username"], person["password"], person["email"], list(groups))
        return person

    return make


def app_user(django_user_model, person):
    return django_user_model.objects.get(email=person["email"])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_signs_an_operator_in_through_sso(page, live_server, sso, provider_user, django_user_model):
    person = provider_user("Operator")
    landing = sign_in_with_sso(page, live_server.url, sso, person["username"], person["password"])
    assert landing.status == 200
    assert page.url == f"{live_server.url}/dm/"  # login lands on the inbox
    assert "operator" in page.locator(".topbar .who").inner_text()
    record = UserRecord.get(app_user(django_user_model, person).username)
    assert record.lastLoginAt is not None
    assert (record.email, record.role) == (person["email"], "operator")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_shows_someone_in_no_group_the_no_role_page(page, live_server, sso, provider_user):
    person = provider_user()
    landing = sign_in_with_sso(page, live_server.url, sso, person["username"], person["password"])
    assert landing.status == 403
    assert page.get_by_role("heading", name="No role yet").is_visible()
    assert page.locator("#sidebar").count() == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_takes_the_groups_afresh_at_each_sso_login(page, live_server, sso, provider_user, django_user_model):
    person = provider_user("Operator")
    sign_in_with_sso(page, live_server.url, sso, person["username"], person["password"])
    assert "operator" in page.locator(".topbar .who").inner_text()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")

    sso.set_user(person["username"], person["password"], person["email"], ["Viewer"])
    landing = sign_in_with_sso(page, live_server.url, sso, person["username"], person["password"])

    assert landing.status == 200
    assert "viewer" in page.locator(".topbar .who").inner_text()
    user = app_user(django_user_model, person)
    assert list(user.groups.values_list("name", flat=True)) == ["Viewer"]
    assert UserRecord.get(user.username).role == "viewer"


@pytest.mark.django_db
def test_it_logs_an_operator_in_with_a_password_and_records_the_login(client, operator):
    UserRecord(userId=operator.username).delete()  # moto keeps items for the whole session
    response = client.post("/accounts/login/", {"username": operator.username, "password": "pw-otto-operator"})
    assert response.status_code == 302
    record = UserRecord.get(operator.username)
    assert record.lastLoginAt is not None
    assert record.role == "operator"


@pytest.mark.django_db
def test_it_refuses_the_password_form_where_password_login_is_off(client, operator, settings):
    settings.PASSWORD_LOGIN_ENABLED = False
    response = client.post("/accounts/login/", {"username": operator.username, "password": "pw-otto-operator"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
