"""Password login is throttled per client IP and per username (django-axes, wecare/login_throttle.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

LOGIN = "/accounts/login/"
LIMIT = settings.AXES_FAILURE_LIMIT
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"

pytestmark = pytest.mark.django_db


def log_in(username: str, password: str, ip: str):
    """One post of the login form from `ip`, on a fresh client (no session carried over)."""
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password})


def fail(username: str, ip: str, times: int = LIMIT) -> None:
    for _ in range(times):
        response = log_in(username, "wrong-password", ip)
        # The form again with its error; the failure that reaches the limit already says "locked".
        assert response.status_code in (200, 429) and not logged_in(response)


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_the_right_password_is_refused_after_the_failure_limit(operator):
    fail(operator.username, ATTACKER)
    response = log_in(operator.username, "pw-" + operator.username, ATTACKER)
    assert response.status_code == 429
    assert not logged_in(response)
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert f"{settings.LOGIN_COOLOFF_MINUTES} minutes" in page
    assert f'value="{operator.username}"' in page  # the form stays filled in


def test_failures_below_the_limit_do_not_lock(operator):
    fail(operator.username, ATTACKER, times=LIMIT - 1)
    assert logged_in(log_in(operator.username, "pw-" + operator.username, ATTACKER))


def test_one_ip_guessing_many_usernames_is_locked_out_for_every_username(operator, viewer):
    for n in range(LIMIT):
        fail(f"someone-{n}", ATTACKER, times=1)
    assert log_in(operator.username, "pw-" + operator.username, ATTACKER).status_code == 429
    # Another address is not affected by this one's failures.
    assert logged_in(log_in(viewer.username, "pw-" + viewer.username, ELSEWHERE))


def test_one_username_guessed_from_many_ips_is_locked_out_from_every_ip(operator, viewer):
    for n in range(LIMIT):
        fail(operator.username, f"192.0.2.{n + 1}", times=1)
    assert log_in(operator.username, "pw-" + operator.username, ELSEWHERE).status_code == 429
    # Another person at the same address is not affected by this username's lockout.
    assert logged_in(log_in(viewer.username, "pw-" + viewer.username, ELSEWHERE))


def test_login_works_again_after_the_cooloff(operator):
    fail(operator.username, ATTACKER)
    assert log_in(operator.username, "pw-" + operator.username, ATTACKER).status_code == 429
    # Let the cool-off pass: every failure is now older than it.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES, seconds=1)
    )
    assert logged_in(log_in(operator.username, "pw-" + operator.username, ATTACKER))


def test_an_admin_reset_unlocks_at_once(operator):
    fail(operator.username, ATTACKER)
    call_command("axes_reset_username", operator.username)
    call_command("axes_reset_ip", ATTACKER)
    assert logged_in(log_in(operator.username, "pw-" + operator.username, ATTACKER))


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.20", "198.51.100.20"),
        ("6.6.6.6, 198.51.100.20", "198.51.100.20"),  # the client wrote the first; the ALB appended the last
        ("2001:db8::7", "2001:db8::7"),
        ("", "10.0.0.5"),
        ("198.51.100.20, not-an-address", "10.0.0.5"),  # not from the ALB: the connection's address
    ],
)
def test_behind_the_load_balancer_the_client_is_the_address_it_appended(settings, rf, forwarded, expected):
    from wecare.login_throttle import client_ip

    settings.IS_PRODUCTION_LIKE = True
    request = rf.post(LOGIN, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
