"""A real Celery worker, over SQS on the moto server, runs a contacts CSV import."""

from __future__ import annotations

import time

import pytest

from contacts import imports
from wecare.tests.workers import running_worker

pytestmark = [pytest.mark.django_db, pytest.mark.worker]


@pytest.fixture
def worker(tmp_path):
    with running_worker(tmp_path, queues="default") as proc:
        yield proc


def test_a_real_worker_runs_an_import_queued_on_sqs(worker, operator, new_phone):
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
