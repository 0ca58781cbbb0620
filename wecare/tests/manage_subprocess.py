"""Run ``manage.py`` in a child process with an environment we control.

The test settings (``wecare/tests/settings.py``) write test values into ``os.environ`` (a moto
endpoint, an OIDC client, a secret key...). A child started from that environment would inherit
them, so ``clean_environment`` first drops every variable the real settings read, then applies
only what the test asks for. The list of variables is parsed from ``wecare/settings.py`` itself,
so a new setting is covered without touching the tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "wecare" / "settings.py"

# env_str("NAME", ...), env_bool(\n    "NAME", ...) and friends from wecare/env.py
ENV_CALL = re.compile(r"\benv_(?:str|bool|int|choice|list)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def settings_variables() -> list[str]:
    """Every environment variable name read in wecare/settings.py, in order of first use."""
    return list(dict.fromkeys(ENV_CALL.findall(SETTINGS_FILE.read_text())))


def clean_environment(**overrides: str | None) -> dict[str, str]:
    """os.environ without anything that configures the app, plus ``overrides`` (None removes)."""
    env = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    env["DJANGO_SETTINGS_MODULE"] = "wecare.settings"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# A valid production-shaped environment; tests change one thing at a time from here.
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SEND_MODE": "LIVE",
    "DJANGO_SECRET_KEY": "prod-shaped-test-key-" + "x7Kq2mZp9vR4tY8w" * 4,  # 85 characters, test only
    "ALLOWED_HOSTS": "app.wecare.digital",
    "DATABASE_URL": "postgres://u:p@localhost/db",
    "OIDC_RP_CLIENT_ID": "test-client-id",
    "OIDC_RP_CLIENT_SECRET": "test-client-secret",
    "COGNITO_DOMAIN": "https://auth.wecare.digital",
    "BEDROCK_AGENT_ALIAS_ID": "TESTALIAS1",
    "SITE_URL": "https://app.wecare.digital",
}
