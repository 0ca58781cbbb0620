"""A bad environment stops the process with exit status 2 and one line naming the variable.

Each case starts `manage.py check` in a child process from a clean environment (see
``manage_subprocess.clean_environment``), changes what the case is about, and reads stderr.
"""

from __future__ import annotations

import pytest

from wecare.tests.manage_subprocess import PRODUCTION, clean_environment, manage, stderr_lines

DEV_KEY = "development-test-key-only"

# (case id, environment changes, the variable the error line must name)
BAD_ENVIRONMENTS = [
    ("missing-secret-key", {"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY"),
    ("live-in-staging", {"ENVIRONMENT": "staging", "SEND_MODE": "LIVE"}, "SEND_MODE"),
    (
        "live-in-staging-even-with-the-local-escape-hatch",
        {"ENVIRONMENT": "staging", "SEND_MODE": "LIVE", "ALLOW_LIVE_AGAINST_FAKE": "true"},
        "SEND_MODE",
    ),
    (
        "live-in-development-without-the-local-fake",
        {"SEND_MODE": "LIVE", "ALLOW_LIVE_AGAINST_FAKE": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"},
        "AWS_FAKE_ENDPOINT_URL",
    ),
    ("send-mode-bogus", {"SEND_MODE": "bogus"}, "SEND_MODE"),
    ("debug-not-a-boolean", {"DJANGO_DEBUG": "yes"}, "DJANGO_DEBUG"),
    (
        "production-without-oidc-or-password-login",
        {**PRODUCTION, "OIDC_RP_CLIENT_ID": None, "OIDC_RP_CLIENT_SECRET": None, "PASSWORD_LOGIN_ENABLED": "false"},
        "OIDC_RP_CLIENT_ID",
    ),
    ("endpoint-url-in-production", {**PRODUCTION, "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, "AWS_ENDPOINT_URL"),
    (
        "fake-endpoint-url-in-production",
        {**PRODUCTION, "AWS_FAKE_ENDPOINT_URL": "http://127.0.0.1:5001"},
        "AWS_FAKE_ENDPOINT_URL",
    ),
    ("threshold-not-a-number", {"BULK_CONFIRMATION_THRESHOLD": "abc"}, "BULK_CONFIRMATION_THRESHOLD"),
    ("staff-email-not-an-address", {"STAFF_NOTIFICATION_EMAIL": "staff-at-example"}, "STAFF_NOTIFICATION_EMAIL"),
    ("staff-minutes-zero", {"STAFF_NOTIFICATION_MINUTES": "0"}, "STAFF_NOTIFICATION_MINUTES"),
    (
        "staff-email-in-production-without-site-url",
        {**PRODUCTION, "STAFF_NOTIFICATION_EMAIL": "staff@example.com", "SITE_URL": None},
        "SITE_URL",
    ),
    ("production-without-allowed-hosts", {**PRODUCTION, "ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
    (
        "preview-without-allowed-hosts",
        {**PRODUCTION, "ENVIRONMENT": "preview", "SEND_MODE": "DRY_RUN", "ALLOWED_HOSTS": None},
        "ALLOWED_HOSTS",
    ),
    ("production-with-any-host", {**PRODUCTION, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    (
        "production-with-any-host-among-others",
        {**PRODUCTION, "ALLOWED_HOSTS": "app.wecare.digital, *"},
        "ALLOWED_HOSTS",
    ),
]


@pytest.mark.parametrize(
    ("changes", "variable"), [case[1:] for case in BAD_ENVIRONMENTS], ids=[c[0] for c in BAD_ENVIRONMENTS]
)
def test_bad_environment_stops_with_one_line_naming_the_variable(changes, variable):
    env = clean_environment(**{"DJANGO_SECRET_KEY": DEV_KEY, **changes})

    result = manage("check", env=env)

    lines = stderr_lines(result)
    assert result.returncode == 2, f"exit {result.returncode}\nstderr:\n{result.stderr}"
    assert len(lines) == 1, f"expected exactly one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("configuration error: ")
    assert variable in lines[0]


def test_defaults_boot_in_development():
    """Nothing but a secret key: every other variable takes its development default."""
    env = clean_environment(DJANGO_SECRET_KEY=DEV_KEY)

    result = manage("check", env=env)

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "configuration error" not in result.stderr


def test_a_wildcard_host_in_production_is_refused_with_what_to_set_instead():
    env = clean_environment(**{**PRODUCTION, "ALLOWED_HOSTS": "*"})

    result = manage("check", env=env)

    assert result.returncode == 2
    assert stderr_lines(result) == [
        "configuration error: ALLOWED_HOSTS may not contain '*' when ENVIRONMENT=production: "
        "set the host names the site is reached under, comma-separated (e.g. app.example.com)"
    ]
