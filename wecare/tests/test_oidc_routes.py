"""The OIDC routes exist only when OIDC is configured: without a client id, mozilla-django-oidc's
views raise ImproperlyConfigured (a 500) for anyone who asks, so they are not mounted at all."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client
from django.urls import clear_url_caches

import wecare.urls


def _rebuild_urls() -> None:
    importlib.reload(wecare.urls)
    clear_url_caches()


@contextmanager
def url_conf_restored() -> Iterator[None]:
    """Whatever the block rebuilds, the URL conf afterwards is the one that was there before (the
    settings themselves are restored by pytest-django's ``settings`` fixture)."""
    patterns = wecare.urls.urlpatterns
    try:
        yield
    finally:
        wecare.urls.urlpatterns = patterns
        clear_url_caches()


@pytest.fixture
def urls_with_oidc(settings) -> Iterator:
    """Rebuild the URL conf with OIDC_ENABLED as the test sets it, and restore it afterwards."""

    def build(enabled: bool) -> None:
        settings.OIDC_ENABLED = enabled
        _rebuild_urls()

    with url_conf_restored():
        yield build


def _sso_start_status() -> int:
    return Client().get("/oidc/authenticate/").status_code


@pytest.mark.django_db
@pytest.mark.parametrize("before", [False, True])
def test_after_a_test_the_routes_are_what_they_were(settings, before):
    with url_conf_restored():  # what the test settings build, for the tests that follow
        settings.OIDC_ENABLED = before
        _rebuild_urls()
        with url_conf_restored():
            settings.OIDC_ENABLED = not before
            _rebuild_urls()
            assert _sso_start_status() == (404 if before else 302)

        assert _sso_start_status() == (302 if before else 404)


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
