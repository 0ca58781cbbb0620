"""`make run`'s environment (localaws/devstack.py)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_stack_runs_on_the_local_settings_unless_told_otherwise():
    """devstack imports wecare (its worker services), whose Celery app sets a default
    DJANGO_SETTINGS_MODULE as it loads: the stack must still start on localaws.settings."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = "from localaws import devstack; print(devstack.environment()['DJANGO_SETTINGS_MODULE'])"
    for chosen, expected in ((None, "localaws.settings"), ("wecare.tests.settings", "wecare.tests.settings")):
        run_env = env if chosen is None else {**env, "DJANGO_SETTINGS_MODULE": chosen}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=run_env, capture_output=True, text=True)
        assert out.stdout.strip() == expected, out.stderr


def test_make_manage_reaches_the_ports_the_running_stack_chose(tmp_path):
    """`PORT=8001 MOTO_PORT=5100 FAKE_AWS_PORT=5101 make run`, then `make manage` in another
    terminal with no variables: the command talks to that stack, not to one on 5000/5001; a port
    the shell sets still wins."""
    chosen = ("PORT", "MOTO_PORT", "FAKE_AWS_PORT", "AWS_ENDPOINT_URL", "AWS_FAKE_ENDPOINT_URL")
    env = {k: v for k, v in os.environ.items() if k not in chosen}  # the test run's own stack sets some
    code = (
        "import json, pathlib, sys; from localaws import devstack;"
        "devstack.PORTS = pathlib.Path(sys.argv[1]);"
        "e = devstack.manage_environment(); print(e['AWS_ENDPOINT_URL'], e['AWS_FAKE_ENDPOINT_URL'])"
    )
    ports = tmp_path / "ports.json"

    def endpoints(**shell: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", code, str(ports)], cwd=ROOT, env={**env, **shell}, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert endpoints() == "http://127.0.0.1:5000 http://127.0.0.1:5001"  # no stack wrote its ports
    ports.write_text('{"PORT": "8001", "MOTO_PORT": "5100", "FAKE_AWS_PORT": "5101"}')
    assert endpoints() == "http://127.0.0.1:5100 http://127.0.0.1:5101"
    assert endpoints(MOTO_PORT="5200") == "http://127.0.0.1:5200 http://127.0.0.1:5101"
