"""Real Celery worker processes for tests: over SQS on the test session's moto server.

Tests that need a worker (crash tests, the browser tests of queued work) start one with
``start_worker``; ``publishing_for_real`` turns the test process's eager mode off meanwhile, so
``.delay()`` goes to SQS where the worker takes it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from wecare.aws import client as aws_client
from wecare.celery import app
from wecare.queues import queue_url

ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    log_path: Path,
    *,
    queues: str,
    concurrency: int = 1,
    settings_module: str = "wecare.tests.settings",
    pool: str | None = None,
) -> subprocess.Popen:
    """A worker on ``queues`` (comma-separated); ``pool`` as given, else solo for one and prefork
    for more.

    It runs in its own process group, so a test's SIGKILL of the group reaches the pool children.
    """
    pool = pool or ("solo" if concurrency == 1 else "prefork")
    log = open(log_path, "ab")  # noqa: SIM115 - the worker owns it until it exits
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wecare",
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "--pool",
            pool,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen, log_path: Path) -> None:
    """Stop it (warm shutdown, then kill) and print the end of its log for a failing test's report."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    print(log_path.read_text(errors="replace")[-3000:])


@contextlib.contextmanager
def visibility_timeout(queue: str, seconds: int) -> Iterator[None]:
    """The queue's SQS visibility timeout cut to ``seconds`` for the block (production keeps
    bootstrap's 300 s), so what a killed worker held comes back soon. It has to be the queue's
    attribute: kombu's ``visibility_timeout`` option only applies to queues kombu creates."""
    sqs = aws_client("sqs")
    url = queue_url(
        queue,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region=settings.AWS_REGION,
        account_id=settings.AWS_ACCOUNT_ID,
        prefix=settings.SQS_QUEUE_PREFIX,
    )
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
        "VisibilityTimeout"
    ]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": before})


@contextlib.contextmanager
def publishing_for_real() -> Iterator[None]:
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@contextlib.contextmanager
def running_worker(tmp_path: Path, *, queues: str, concurrency: int = 1) -> Iterator[subprocess.Popen]:
    """A worker for the duration of the block, with this process publishing to SQS."""
    log_path = tmp_path / "worker.log"
    proc = start_worker(log_path, queues=queues, concurrency=concurrency)
    try:
        with publishing_for_real():
            yield proc
    finally:
        stop_worker(proc, log_path)
