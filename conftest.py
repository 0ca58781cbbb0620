"""Shared fixtures: a moto server over real HTTP, bootstrapped once per test process, and the
people who use the platform (a viewer, an operator, an admin, someone with no role). Also loads
the hypothesis profile HYPOTHESIS_PROFILE names (wecare/tests/hypothesis_profiles.py)."""

from __future__ import annotations

import random
from urllib.parse import urlparse

import phonenumbers
import pytest
from django.conf import settings
from django.test import Client

from wecare.tests import hypothesis_profiles

# Before any test module is imported: their decorators read the profile's example count.
hypothesis_profiles.load_from_environment()


@pytest.fixture(scope="session", autouse=True)
def aws(django_db_blocker):
    """Start moto on the port the test settings chose and create every resource in it."""
    from localaws import emulator
    from wecare.bootstrap import bootstrap

    emulator.install()  # serialized writes and cheap transaction backups: see localaws/emulator.py
    endpoint = urlparse(settings.AWS_ENDPOINT_URL)
    # moto's threaded server with kept-alive connections (emulator.py, fix 4)
    server = emulator.keep_alive_server(endpoint.hostname or "127.0.0.1", endpoint.port or 0)
    server.start()
    bootstrap()
    yield settings.AWS_ENDPOINT_URL
    server.stop()


@pytest.fixture
def new_phone():
    """Valid, never-repeated E.164 numbers (moto keeps data for the whole session)."""
    used: set[str] = set()
    # Its own generator: Hypothesis reseeds the global one identically in every test, which
    # would hand out the same numbers across tests (and moto keeps data for the whole session).
    rng = random.Random()

    def make() -> str:
        while True:
            candidate = f"+1415{rng.randint(2000000, 9999999)}"
            if candidate not in used and phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
                used.add(candidate)
                return candidate

    return make


@pytest.fixture
def new_email():
    rng = random.Random()

    def make() -> str:
        return f"person-{rng.getrandbits(48):x}@example.com"

    return make


def _person(django_user_model, username: str, group: str | None):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@example.com"
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        if group == "Admin":
            user.is_staff = user.is_superuser = True
            user.save()
    return user


@pytest.fixture
def viewer(django_user_model):
    return _person(django_user_model, "vera-viewer", "Viewer")


@pytest.fixture
def operator(django_user_model):
    return _person(django_user_model, "otto-operator", "Operator")


@pytest.fixture
def admin_user(django_user_model):
    return _person(django_user_model, "ada-admin", "Admin")


@pytest.fixture
def nobody(django_user_model):
    """Logged in, but in no role group."""
    return _person(django_user_model, "nora-norole", None)


@pytest.fixture
def client_for(client):
    """A Django test client logged in as the given person."""

    def login(user):
        client.force_login(user)
        return client

    return login


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    # This machine has no network: without these Chromium keeps trying Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """Debian's Chromium driven by Playwright (which never downloads a browser of its own)."""
    from playwright.sync_api import expect, sync_playwright

    # A server round trip (a preview recomputed, a job started) can take seconds on a loaded CI
    # machine: wait up to 15 s for what a page must show, as page actions already do. The
    # assertions are unchanged; only how long they wait for the page to get there.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login_page(page, live_server):
    """Sign a person in and return the page, not yet on any address: Django's own login makes the
    session (the same signal, audit entry and session keys as the form) and the browser gets its
    cookie. The password form itself is driven in a browser once, by the every-page sweep
    (wecare/tests/test_every_page_browser.py); through it here every browser test paid a page load,
    a POST and the landing page (about half a second) for a login it does not test."""

    def login(user):
        client = Client()  # its own: a test's `client` may be signed in as someone else
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        return page

    return login


@pytest.fixture
def search_indexing(settings):
    """The inbox search's indexing, which the test settings turn off (most tests record messages and
    never search): each message recorded while this is on is indexed as deployed, through
    ``conversation_index.update_in``'s after-commit step and the eager Celery task."""
    settings.INBOX_SEARCH_INDEXING = True


@pytest.fixture(scope="session")
def fake_aws(aws):
    """The local fake (localaws/fakeaws) of WhatsApp (socialmessaging), SMS (pinpoint-sms-voice-v2)
    and Bedrock (bedrock-agent-runtime, bedrock-runtime: wecare.aws.FAKED_SERVICES), on the port the
    test settings chose for AWS_FAKE_ENDPOINT_URL, so wecare.aws.client() reaches it. It reads and
    writes media in the session's moto S3. State lasts the session: use `fake_aws_clean`, or call
    `.reset()`, for a test that counts calls."""
    from localaws.fakeaws import FakeAwsServer

    endpoint = urlparse(settings.AWS_FAKE_ENDPOINT_URL)
    server = FakeAwsServer(
        host=endpoint.hostname, port=endpoint.port, s3_endpoint_url=settings.AWS_ENDPOINT_URL
    ).start()
    yield server
    server.stop()


@pytest.fixture
def fake_aws_clean(fake_aws):
    """`fake_aws` with no calls, refusals or faults left from earlier tests, and the seeded templates."""
    fake_aws.reset()
    return fake_aws
