"""THE crash test: a real bulk worker is killed (SIGKILL) in the middle of a 400-recipient job;
a new worker finishes it; every recipient ends in exactly one final state, and provider calls
(counted by the local fake, at the sender boundary) match the recipients marked sent.

What is counted: a recipient is claimed (``sending``) before its provider call and recorded after
it. A worker killed between the two leaves it ``sending``; the sweep reports it ``unknown`` and it
is never sent again. So each number is called at most once; every ``sent`` recipient was called
exactly once; and the calls beyond ``sent`` are all to ``unknown`` recipients (the kill landed
after their call, before their record). Each process has several provider calls in flight at once
(BULK_SEND_CONCURRENCY in crash_worker_settings) and the provider takes 200 ms ± 50 ms a call; the kill
lands while several calls are under way; a killed process leaves at most ``sending.max_unrecorded``
recipients ``sending``: the claimed but not yet called, the calls in flight, and the called but not
yet recorded.

The job is four chunks for a worker of two processes: the kill lands in the middle of the two
chunks it is sending, with two not started, so the second worker finishes chunks a dead process
left half done and chunks nobody started. bench/bulk_crash_bench.py runs the same at 2,000
recipients and prints its timings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from bulk import actions, queries, sending, sweep
from bulk.audience import AudienceSpec
from bulk.queries import all_recipients
from bulk.tests import crash_worker_settings
from bulk.tests.conftest import sms
from wecare.celery import app
from wecare.tests import workers

pytestmark = [pytest.mark.django_db, pytest.mark.worker]

RECIPIENTS = 400
KILL_AFTER_CALLS = 100
CONCURRENCY = 2
# The chunks the killed worker held come back to the queue after this; long enough that a chunk a
# live process is sending does not come back mid-send (production: 300 s, see wecare/bootstrap.py).
VISIBILITY_SECONDS = 30


def start_worker(log_path: Path) -> subprocess.Popen:
    return workers.start_worker(
        log_path, queues="bulk-queue", concurrency=CONCURRENCY, settings_module="bulk.tests.crash_worker_settings"
    )


def wait_for(condition, seconds: float, what: str, *, every: float = 2) -> None:
    deadline = time.monotonic() + seconds  # a bound on waiting, not a speed assertion
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def short_visibility():
    with workers.visibility_timeout("bulk-queue", VISIBILITY_SECONDS):
        yield


@pytest.fixture
def slow_provider(fake_aws_clean):
    """A provider call takes as long as a real one (AWS to the carrier), so calls overlap."""
    fake_aws_clean.set_latency(200, 50, operation="SendTextMessage")
    yield fake_aws_clean
    fake_aws_clean.reset()  # no latency left for the next test of this process


def test_a_killed_worker_sends_nobody_twice_and_every_recipient_ends_once(
    make_contacts, operator, slow_provider, short_visibility, tmp_path
):
    fake_aws_clean = slow_provider
    contacts = make_contacts(RECIPIENTS)
    app.conf.task_always_eager = False  # publish the chunks to SQS for real
    try:
        job = actions.start_job(
            AudienceSpec(contact_ids=[c.contactId for c in contacts]),
            sms(),
            channel="sms",
            sender=None,
            user=operator,
            confirm=True,
            previewed_count=RECIPIENTS,
        )
    finally:
        app.conf.task_always_eager = True
    calls = lambda: len(fake_aws_clean.calls("SendTextMessage"))  # noqa: E731

    first = start_worker(tmp_path / "worker1.log")

    def unanswered() -> int:  # calls the fake has received and not answered yet: in flight
        return sum(1 for c in fake_aws_clean.calls("SendTextMessage") if c["status"] is None)

    seen: list[int] = []

    def ready_to_kill() -> bool:
        if first.poll() is not None:
            return True  # it died by itself: the assertion below shows its log
        if calls() < KILL_AFTER_CALLS:
            return False
        seen.append(unanswered())
        assert calls() < RECIPIENTS * 3 // 4, f"never saw two calls in flight at once: {seen}"
        return seen[-1] >= 2

    try:
        wait_for(ready_to_kill, 600, f"the first worker to send {KILL_AFTER_CALLS} with calls in flight", every=0.05)
        assert first.poll() is None, (tmp_path / "worker1.log").read_text()[-3000:]
        os.killpg(first.pid, signal.SIGKILL)  # kill -9, mid-chunk, at once (a call takes 150 ms or more)
        first.wait(timeout=30)
        in_flight = seen[-1]  # at most 50 ms before the kill: still unanswered when it came
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    at_kill = calls()
    assert at_kill < RECIPIENTS
    assert in_flight >= 2  # the kill landed with several calls under way at once
    left_unanswered = unanswered()  # (the fake answers them later, to a dead socket)

    second = start_worker(tmp_path / "worker2.log")
    try:
        seen: list[Counter] = []

        def settled() -> bool:
            # Nobody pending, and nothing changed since the last look: only the recipients the
            # killed worker left "sending" are not final, and no worker is working any more.
            seen.append(Counter(r.status for r in all_recipients(job.jobId)))
            return seen[-1]["pending"] == 0 and len(seen) > 1 and seen[-1] == seen[-2]

        wait_for(settled, 900, "the second worker to finish every chunk")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
        print((tmp_path / "worker2.log").read_text()[-2000:])

    sweep.sweep_stuck(older_than=timedelta(0))  # what beat runs every 5 minutes

    job = queries.get_job(job.jobId)
    recipients = list(all_recipients(job.jobId))
    by_status = Counter(r.status for r in recipients)
    called = Counter(c["params"]["DestinationPhoneNumber"] for c in fake_aws_clean.calls("SendTextMessage"))
    sent = {r.address for r in recipients if r.status == "sent"}
    unknown = {r.address for r in recipients if r.status == "unknown"}

    assert set(by_status) <= {"sent", "unknown"}, by_status  # every one final, none pending or sending
    assert len(recipients) == RECIPIENTS
    assert max(called.values()) == 1  # nobody was sent to twice
    assert sent <= set(called)  # every recipient marked sent was called once
    assert set(called) - sent <= unknown  # a call without a "sent" record is an unknown recipient
    assert sum(called.values()) == len(sent) + len(unknown & set(called))
    # At most what one process may hold claimed and unrecorded, per process that died.
    assert len(unknown) <= CONCURRENCY * sending.max_unrecorded(crash_worker_settings.BULK_SEND_CONCURRENCY)
    assert (job.status, job.sentCount, job.unknownCount) == ("completed", len(sent), len(unknown))
    print(
        f"calls at kill {at_kill} ({in_flight} in flight, {left_unanswered} unanswered just after);"
        f" sent {len(sent)}; unknown {len(unknown)}"
        f" ({len(unknown & set(called))} of them called)"
    )
