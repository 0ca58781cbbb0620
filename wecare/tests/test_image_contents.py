"""The local AWS stand-ins (``localaws/``) stay out of production: the production settings never
load the package, no app imports it, and the Docker image leaves it out with the tests, the
benchmarks and the docs. Docker is not needed: the ``.dockerignore`` patterns are matched here the
way Docker matches them.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from wecare.tests.manage_subprocess import PRODUCTION, ROOT, clean_environment

APPS = ("wecare", "contacts", "messaging", "bulk", "ai")

# Load everything a deployed process loads (settings, apps, URLs, the API, every Celery task) and
# report which local-AWS modules ended up imported.
LOAD_LIKE_PRODUCTION = """
import json, sys
import django
django.setup()
import wecare.urls, wecare.api
from django.conf import settings
from wecare.celery import app
app.loader.import_default_modules()
print(json.dumps({
    "installed_apps": list(settings.INSTALLED_APPS),
    "sns_cert_loader": settings.SNS_CERT_LOADER,
    "modules": sorted(name for name in sys.modules if name == "localaws" or name.startswith("localaws.")),
}))
"""


def test_production_settings_never_load_the_local_aws_package():
    env = clean_environment(**{**PRODUCTION, "AWS_ENDPOINT_URL": None, "AWS_FAKE_ENDPOINT_URL": None})
    result = subprocess.run(
        [sys.executable, "-c", LOAD_LIKE_PRODUCTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["modules"] == []
    assert not [app for app in loaded["installed_apps"] if app.split(".")[0] == "localaws"]
    assert "wecare.apps.WecareConfig" in loaded["installed_apps"]  # the probe really loaded the production apps
    assert loaded["sns_cert_loader"] == "messaging.inbound.sns_certs.fetch_from_aws"


def test_the_local_stack_settings_refuse_a_deployed_environment():
    env = clean_environment(
        **{
            **PRODUCTION,
            "AWS_ENDPOINT_URL": None,
            "AWS_FAKE_ENDPOINT_URL": None,
            "DJANGO_SETTINGS_MODULE": "localaws.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 2
    assert "localaws.settings is for the local stack only" in result.stderr


def production_modules() -> list[Path]:
    """Every module of the apps that a deployed process may load (tests are not shipped)."""
    return [path for app in APPS for path in (ROOT / app).rglob("*.py") if "tests" not in path.relative_to(ROOT).parts]


def test_no_app_imports_the_local_aws_package():
    offenders = []
    for path in production_modules():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} {name}" for name in names if name.split(".")[0] == "localaws"
            ]

    assert len(production_modules()) > 50  # the walk really found the apps
    assert offenders == []


def dockerignore_pattern(line: str) -> re.Pattern[str]:
    """A .dockerignore line as Docker reads it: a path from the context root where `*` and `?`
    stay inside one path segment and `**` spans any number of them."""
    pattern = line.strip().strip("/")
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex + r"\Z")


@lru_cache(maxsize=1)
def dockerignore_rules() -> tuple[tuple[bool, re.Pattern[str]], ...]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            negated = line.lstrip().startswith("!")
            rules.append((negated, dockerignore_pattern(line.lstrip().lstrip("!"))))
    return tuple(rules)


def left_out_of_the_image(relative: str) -> bool:
    """Docker's rule: the last pattern that matches the path, or any directory above it, decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, pattern in dockerignore_rules():
        if any(pattern.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        "localaws/__init__.py",
        "localaws/settings.py",
        "localaws/devstack.py",
        "localaws/emulator.py",
        "localaws/snapshot.py",
        "localaws/fakeaws/server.py",
        "localaws/management/commands/dev_snapshot.py",
        "localaws/management/commands/seed_demo.py",
        "localaws/management/commands/simulate_inbound.py",
        "localaws/sns_certs.py",
        "wecare/tests/settings.py",
        "messaging/tests/fixtures/real/pywa_message_text.json",
        "bench/bulk_bench.py",
        "docs/local-stack.md",
        "conftest.py",
        "pytest.ini",
        "requirements-dev.txt",
        "README.md",
    ],
)
def test_the_image_leaves_out(path):
    assert left_out_of_the_image(path)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "requirements.txt",
        "wecare/settings.py",
        "wecare/api.py",
        "messaging/models.py",
        "contacts/actions.py",
        "bulk/api.py",
        "ai/models.py",
        "scripts/entrypoint.sh",
        "templates/base.html",
        "static/js/app.js",
    ],
)
def test_the_image_keeps(path):
    assert (ROOT / path).exists()
    assert not left_out_of_the_image(path)


def test_every_file_of_the_local_aws_package_is_left_out():
    files = [path.relative_to(ROOT).as_posix() for path in (ROOT / "localaws").rglob("*") if path.is_file()]

    assert len(files) > 20
    assert [name for name in files if not left_out_of_the_image(name)] == []


def test_the_image_build_refuses_the_local_aws_package():
    """Belt and braces for a .dockerignore edited by mistake: the Dockerfile checks after COPY."""
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "RUN test ! -e localaws" in dockerfile
    assert dockerfile.index("COPY . .") < dockerfile.index("RUN test ! -e localaws")
