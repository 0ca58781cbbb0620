"""`.env.example` and `docs/configuration.md` list every environment variable the code reads, and
nothing else, so the documentation cannot drift from the settings.

Sources of truth: the ``env_*("NAME")`` calls in wecare/settings.py, the variables the local stack
reads (localaws/devstack.py) and those the container entry point reads (scripts/entrypoint.sh).
"""

from __future__ import annotations

import re

import pytest

from wecare.tests.manage_subprocess import ROOT, settings_variables

ENV_EXAMPLE = ROOT / ".env.example"
CONFIGURATION_DOC = ROOT / "docs" / "configuration.md"
SECRETS = ("DJANGO_SECRET_KEY", "OIDC_RP_CLIENT_SECRET")

# `env.get("PORT", "8000")` in localaws/devstack.py; `${PORT:-8000}` in scripts/entrypoint.sh
DEVSTACK_READ = re.compile(r"""\benv\.get\(\s*["']([A-Z][A-Z0-9_]*)["']""")
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-")
# `NAME=value` or `# NAME=value` at the start of a line
ASSIGNMENT = re.compile(r"^#?[ ]?([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)


def devstack_variables() -> list[str]:
    return sorted(set(DEVSTACK_READ.findall((ROOT / "localaws" / "devstack.py").read_text())))


def entrypoint_variables() -> list[str]:
    return sorted(set(SHELL_READ.findall((ROOT / "scripts" / "entrypoint.sh").read_text())))


def all_variables() -> list[str]:
    return list(dict.fromkeys(settings_variables() + devstack_variables() + entrypoint_variables()))


def documented_in_env_example() -> dict[str, str]:
    return dict(ASSIGNMENT.findall(ENV_EXAMPLE.read_text()))


def test_the_parsers_find_what_we_know_is_there():
    """Guards the regexes: if they silently matched nothing, every other test here would pass."""
    names = settings_variables()
    assert len(names) >= 45
    assert {"DJANGO_SECRET_KEY", "WHATSAPP_PHONE_NUMBER_IDS", "COGNITO_ISSUER", "IMPORT_PREFIX"} <= set(
        names
    )  # incl. multi-line calls
    assert {"PORT", "MOTO_PORT", "DEMO_PASSWORD"} <= set(devstack_variables())
    assert {"PORT", "WEB_CONCURRENCY", "WORKER_CONCURRENCY", "WORKER_QUEUES"} <= set(entrypoint_variables())


@pytest.mark.parametrize("name", all_variables())
def test_variable_is_in_env_example(name):
    assert name in documented_in_env_example(), f"{name} is read by the code but missing from .env.example"


@pytest.mark.parametrize("name", all_variables())
def test_variable_is_in_configuration_doc(name):
    assert f"`{name}`" in CONFIGURATION_DOC.read_text(), (
        f"{name} is read by the code but missing from docs/configuration.md"
    )


def test_env_example_lists_nothing_the_code_does_not_read():
    stale = sorted(set(documented_in_env_example()) - set(all_variables()))
    assert not stale, f".env.example documents variables no code reads: {stale}"


@pytest.mark.parametrize("name", SECRETS)
def test_secrets_are_shown_without_a_value(name):
    assert documented_in_env_example()[name].strip() == "", f"{name} must have no value in .env.example"
