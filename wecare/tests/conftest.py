"""Fixtures for the login tests: a real OIDC provider for browser logins, and a stand-in user
pool (a JWKS on loopback plus a signing key) for ID-token and API bearer checks."""

from __future__ import annotations

import os

import pytest

from wecare.tests.signing import SigningKey, UserPool

# The app's live server on 127.0.0.1 while the OIDC provider is on localhost, so the browser
# keeps two cookie jars. Read by pytest-django when it starts live_server.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    from wecare.tests.oidc_provider.harness import OIDCProvider

    provider = OIDCProvider(tmp_path_factory.mktemp("oidc-provider"))
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def sso(oidc_provider, live_server, settings):
    """The app's SSO button leads to the test provider, which knows the app as its client."""
    oidc_provider.register_client(
        settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET, f"{live_server.url}/oidc/callback/"
    )
    for name, value in oidc_provider.endpoints.items():
        setattr(settings, name, value)
    return oidc_provider


@pytest.fixture(scope="session")
def pool_key():
    return SigningKey("pool-key-1")


@pytest.fixture(scope="session")
def _user_pool(pool_key):
    from django.conf import settings

    with UserPool(pool_key, settings.OIDC_RP_CLIENT_ID) as pool:
        yield pool


@pytest.fixture
def user_pool(_user_pool, settings):
    """The app trusts the stand-in pool: its JWKS, its issuer, tokens for our client id."""
    settings.OIDC_OP_JWKS_ENDPOINT = _user_pool.jwks_url
    settings.COGNITO_ISSUER = _user_pool.issuer
    settings.API_JWT_AUDIENCE = settings.OIDC_RP_CLIENT_ID
    return _user_pool
