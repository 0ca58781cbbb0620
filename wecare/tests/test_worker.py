"""A real Celery worker, over SQS on the moto server, runs a contacts CSV import."""

from __future__ import annotations

import json
import time

import pytest

from contacts import imports
from wecare.heartbeat import heartbeat
from wecare.tests.workers import running_worker

pytestmark = [pytest.mark.django_db, pytest.mark.worker]


@pytest.fixture
def worker(tmp_path):
    with running_worker(tmp_path, queues="default") as proc:
        yield proc


def test_a_real_worker_runs_an_import_queued_on_sqs(worker, operator, new_phone, tmp_path):
    phones = [new_phone() for _ in range(3)]
    content = (
        "name,phone,optInSms\n" + "\n".join(f"Worker {i},{p},true" for i, p in enumerate(phones)) + "\nBad,12,true\n"
    ).encode()
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

    # A task's EMF metric reaches the worker's stdout as a line of its own, which is what CloudWatch
    # reads as a metric (not wrapped in a log record: settings.CELERY_WORKER_REDIRECT_STDOUTS).
    heartbeat.delay("worker")
    log = tmp_path / "worker.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and '"WorkerHeartbeat"' not in log.read_text(errors="replace"):
        time.sleep(0.3)
    [line] = [line for line in log.read_text(errors="replace").splitlines() if '"WorkerHeartbeat"' in line]
    assert json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "WorkerHeartbeat", "Unit": "Count"}]
