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
