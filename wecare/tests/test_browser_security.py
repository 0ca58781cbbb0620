"""What the platform tells browsers: a Content-Security-Policy that allows no inline script and no
eval, no caching of anything it renders, and sessions that end after a time without use, which
the pages' background polling does not extend."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings

from wecare.middleware import LAST_ACTIVITY_KEY, SESSION_START_KEY
from wecare.tests.manage_subprocess import clean_environment, manage, stderr_lines
from wecare.tests.test_settings_validation import DEV_KEY

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts)
POLL = {"HTTP_X_BACKGROUND_REQUEST": "true", "HTTP_HX_REQUEST": "true"}


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize(
    "url",
    ["/contacts/", "/contacts/export.csv", "/dm/", "/bulk/new/", "/api/contacts", "/admin/dynamo/audit/"],
)
def test_every_page_api_answer_and_download_carries_the_policy_and_is_not_cached(client_for, admin_user, url):
    response = client_for(admin_user).get(url)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_the_login_page_carries_the_policy_too(client):
    response = client.get("/accounts/login/")
    assert "script-src 'self';" in response["Content-Security-Policy"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_style_or_eval(template):
    """The policy would block these in the browser; catch them before they get there."""
    html = re.sub(r"\{#.*?#\}", "", template.read_text())  # template comments are never sent
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>: move it to static/js/"
    assert not re.search(r"\son[a-z]+\s*=", html), "event handler attribute: use static/js/app.js"
    assert not re.search(r"hx-on|[\"'{]\s*js:", html), "htmx evaluates these with eval"
    assert not re.search(r'hx-trigger="[^"]*\[', html), "htmx trigger filters need eval"
    if "/email/" not in str(template):  # emails are not pages: mail clients want inline styles
        assert not re.search(r"<style|\sstyle=", html), "inline style: put it in static/css/"


# --- idle timeout ------------------------------------------------------------------------------


def _idle_for(user_client, seconds: int) -> None:
    session = user_client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds
    session.save()


def _last_activity(user_client) -> int:
    return user_client.session[LAST_ACTIVITY_KEY]


def test_a_persons_request_counts_as_use_and_a_background_poll_does_not(client_for, operator):
    user_client = client_for(operator)
    _idle_for(user_client, 600)
    stamped = _last_activity(user_client)
    assert user_client.get("/dm/conversations/", **POLL).status_code == 200
    assert _last_activity(user_client) == stamped  # the inbox polling by itself
    assert user_client.get("/contacts/").status_code == 200
    assert _last_activity(user_client) >= int(time.time()) - 5  # a person clicked


def test_after_the_idle_timeout_a_page_asks_for_login_again(client_for, operator):
    user_client = client_for(operator)
    _idle_for(user_client, settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)
    response = user_client.get("/contacts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/contacts/")
    assert user_client.get("/contacts/").status_code == 302  # logged out for good, not just once


def test_polling_alone_does_not_keep_a_session_alive_and_then_sends_the_page_to_login(client_for, operator):
    user_client = client_for(operator)
    _idle_for(user_client, settings.SESSION_IDLE_TIMEOUT_SECONDS - 30)
    assert user_client.get("/dm/conversations/", **POLL).status_code == 200  # still in time
    _idle_for(user_client, settings.SESSION_IDLE_TIMEOUT_SECONDS + 1)
    response = user_client.get(
        "/dm/conversations/", HTTP_HX_CURRENT_URL="http://testserver/dm/?channel=whatsapp", **POLL
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/dm/%3Fchannel%3Dwhatsapp"
    assert user_client.get("/api/contacts").status_code == 401


def test_a_session_within_the_timeout_goes_on(client_for, operator):
    user_client = client_for(operator)
    _idle_for(user_client, settings.SESSION_IDLE_TIMEOUT_SECONDS - 30)
    assert user_client.get("/contacts/").status_code == 200


def test_a_session_in_constant_use_still_ends_its_maximum_age_after_it_began(client_for, operator):
    user_client = client_for(operator)
    assert user_client.get("/contacts/").status_code == 200  # the session's start is noted
    session = user_client.session
    session[SESSION_START_KEY] -= settings.SESSION_COOKIE_AGE - 60
    session.save()
    for _ in range(3):  # a person busy a minute before the end: every click still counts as use
        _idle_for(user_client, 61)
        assert user_client.get("/contacts/").status_code == 200
    session = user_client.session
    session[SESSION_START_KEY] -= 120  # and the end comes, although the last click was just now
    session.save()
    response = user_client.get("/contacts/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


PRINT_TIMEOUTS = (
    "from django.conf import settings; print(settings.SESSION_IDLE_TIMEOUT_SECONDS, settings.SESSION_COOKIE_AGE)"
)


@pytest.mark.parametrize(
    ("environment", "idle_seconds", "max_seconds"),
    [({}, 30 * 60, 12 * 3600), ({"SESSION_IDLE_MINUTES": "7", "SESSION_MAX_HOURS": "3"}, 7 * 60, 3 * 3600)],
    ids=["defaults", "set"],
)
def test_the_timeouts_come_from_the_environment(environment, idle_seconds, max_seconds):
    result = manage(
        "shell", "--no-imports", "-c", PRINT_TIMEOUTS, env=clean_environment(DJANGO_SECRET_KEY=DEV_KEY, **environment)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(idle_seconds), str(max_seconds)]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("SESSION_IDLE_MINUTES", "0"), ("SESSION_IDLE_MINUTES", "half an hour"), ("SESSION_MAX_HOURS", "-1")],
)
def test_a_bad_timeout_stops_the_app_with_one_line_naming_it(variable, value):
    result = manage("check", env=clean_environment(DJANGO_SECRET_KEY=DEV_KEY, **{variable: value}))

    assert result.returncode == 2, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"configuration error: {variable}="), result.stderr
