"""The production settings pass Django's deployment checklist with no warning at all.

`manage.py check --deploy` reads only settings: it needs the PostgreSQL driver importable (Django
loads the backend at start-up) but never connects, so this runs without a database or AWS.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wecare.tests.manage_subprocess import PRODUCTION, clean_environment, manage


def check_deploy(**changes: str | None):
    env = clean_environment(**{**PRODUCTION, "AWS_ENDPOINT_URL": None, "AWS_FAKE_ENDPOINT_URL": None, **changes})
    return manage("check", "--deploy", "--fail-level", "WARNING", env=env)


def test_production_settings_pass_check_deploy():
    assert len(PRODUCTION["DJANGO_SECRET_KEY"]) >= 50

    result = check_deploy()

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("changes", "check_id"),
    [
        # proves --fail-level WARNING really fails on a warning, or the test above is worthless
        ({"SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        # OIDC on without COGNITO_DOMAIN or explicit endpoints: the login URLs would be relative
        ({"COGNITO_DOMAIN": None}, "wecare.W002"),
        ({"BEDROCK_AGENT_ALIAS_ID": None}, "wecare.W003"),
        # bulk email's unsubscribe link would point nowhere
        ({"SITE_URL": None}, "wecare.W004"),
    ],
    ids=["hsts-off", "no-cognito-domain", "no-agent-alias", "no-site-url"],
)
def test_a_half_configured_production_fails_check_deploy(changes, check_id):
    result = check_deploy(**changes)

    assert result.returncode != 0
    assert check_id in result.stderr + result.stdout


def test_every_static_asset_a_template_names_is_found():
    """In production the manifest storage answers a missing asset with a 500 on every page, so
    each ``{% static '…' %}`` in a template must be something collectstatic will collect."""
    from django.contrib.staticfiles import finders

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"""\{%\s*static\s+['"]([^'"]+)['"]""")
    names = {
        name
        for template in root.glob("**/templates/**/*.html")
        if ".venv" not in template.parts
        for name in pattern.findall(template.read_text(encoding="utf-8"))
    }
    assert names, "no {% static %} reference found: the pattern or the layout changed"
    missing = sorted(name for name in names if not finders.find(name))
    assert not missing, f"not found by the staticfiles finders: {missing}"
