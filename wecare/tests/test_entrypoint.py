"""scripts/entrypoint.sh refuses a worker it would run wrongly, with one line saying what to fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENTRYPOINT = Path(__file__).resolve().parents[2] / "scripts" / "entrypoint.sh"


def run(**env: str) -> subprocess.CompletedProcess:
    # No settings are needed: the check comes before anything is imported.
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "worker"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_threads_pool_worker_on_bulk_queue_is_refused():
    for queues in ({}, {"WORKER_QUEUES": "bulk-queue"}, {"WORKER_QUEUES": "outbound-queue,bulk-queue"}):
        answer = run(WORKER_POOL="threads", **queues)
        assert answer.returncode == 2
        assert answer.stderr.strip() == (
            "WORKER_POOL=threads is for outbound-queue: run bulk-queue in a prefork worker "
            "(WORKER_QUEUES without bulk-queue)"
        )
