"""The OIDC routes exist only when OIDC is configured: without a client id, mozilla-django-oidc's
views raise ImproperlyConfigured (a 500) for anyone who asks, so they are not mounted at all."""

from __future__ import annotations

import importlib

import pytest
from django.urls import clear_url_caches

import wecare.urls


@pytest.fixture
def urls_with_oidc(settings):
    """Rebuild the URL conf with OIDC_ENABLED as the test sets it, and restore it afterwards."""

    def build(enabled: bool) -> None:
        settings.OIDC_ENABLED = enabled
        importlib.reload(wecare.urls)
        clear_url_caches()

    yield build
    settings.OIDC_ENABLED = True
    importlib.reload(wecare.urls)
    clear_url_caches()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/oidc/authenticate/", "/oidc/callback/", "/oidc/logout/"])
def test_without_oidc_its_routes_answer_404(client, settings, urls_with_oidc, path):
    urls_with_oidc(False)
    settings.OIDC_RP_CLIENT_ID = ""

    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_without_oidc_the_login_page_offers_only_the_password_form(client, settings, urls_with_oidc):
    urls_with_oidc(False)

    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b"/oidc/" not in response.content


@pytest.mark.django_db
def test_with_oidc_the_sso_button_starts_at_the_provider(client, urls_with_oidc):
    urls_with_oidc(True)

    response = client.get("/oidc/authenticate/")

    assert response.status_code == 302
    assert response["Location"].startswith("http://localhost:1/oauth2/authorize?")
