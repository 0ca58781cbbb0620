"""A real Celery worker, over SQS on the moto server, runs a contacts CSV import."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contacts import imports
from wecare.celery import app

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wecare", "worker", "-Q", "default", "-c", "1", "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "wecare.tests.settings"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False  # publish to SQS for real
    yield proc
    app.conf.task_always_eager = previous
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    print((tmp_path / "worker.log").read_text()[-3000:])


def test_a_real_worker_runs_an_import_queued_on_sqs(worker, operator, new_phone):
    phones = [new_phone() for _ in range(3)]
    content = ("name,phone,optInSms\n" + "\n".join(f"Worker {i},{p},true" for i, p in enumerate(phones)) + "\nBad,12,true\n").encode()
    job = imports.start_import(content, user=operator)
    deadline = time.monotonic() + 90  # a bound on waiting, not a speed assertion
    while time.monotonic() < deadline:
        job.refresh(consistent_read=True)
        if job.status == "completed" or worker.poll() is not None:
            break
        time.sleep(0.5)
    assert worker.poll() is None, "the worker died"
    assert job.status == "completed"
    assert (job.createdCount, job.existingCount) == (3, 0)
    assert [e["line"] for e in job.errorRows] == [5]
