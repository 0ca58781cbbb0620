#!/usr/bin/env python3
"""Bulk crash benchmark: the crash test (bulk/tests/test_crash.py) at full size. A LIVE SMS job of N
recipients (2,000 by default) is sent by a real `celery worker -Q bulk-queue -c 2` that is killed
with SIGKILL mid-job; a second worker finishes it; the stuck sweep reports what the dead one left
`sending`. It checks the crash test's invariants and prints how long each phase took.

    .venv/bin/python bench/bulk_crash_bench.py                     # 2,000 recipients, kill after 300 calls
    .venv/bin/python bench/bulk_crash_bench.py --recipients 5000 --kill-after 1000

Provider calls are counted by the local fake (in this process) at the sender boundary, whichever
worker made them. bulk-queue's SQS visibility timeout is cut as the test cuts it
(--visibility-timeout, 30 s), so the chunks the killed worker held come back in seconds;
--visibility-timeout 300 waits as long as production would.
Exit 1 when an invariant fails (a number called twice, a recipient left unfinished, ...).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import celery_worker  # noqa: E402  (bench/ is on the path from here on)
from outbound_bench import make_contacts, start_local_aws  # noqa: E402  (the same local stack as the other benches)

POLL_SECONDS = 1.0


def start_worker(log: Path, concurrency: int) -> subprocess.Popen:
    """A prefork bulk worker in its own process group, so SIGKILL reaches its children too."""
    return subprocess.Popen(
        celery_worker.argv("bulk-queue", concurrency),
        cwd=ROOT,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def set_visibility_timeout(seconds: int) -> None:
    """bulk-queue's own attribute: kombu's visibility_timeout option only reaches queues it creates."""
    from django.conf import settings

    from wecare.aws import client
    from wecare.queues import queue_url

    url = queue_url(
        "bulk-queue",
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region=settings.AWS_REGION,
        account_id=settings.AWS_ACCOUNT_ID,
        prefix=settings.SQS_QUEUE_PREFIX,
    )
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})


def wait_for(condition: Callable[[], bool], seconds: float, what: str, *, every: float = POLL_SECONDS) -> float:
    """Seconds until condition() held; SystemExit after `seconds` (a bound on waiting)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    raise SystemExit(f"gave up waiting for {what} after {seconds:.0f} s")


def check(invariant: bool, what: str, failures: list[str]) -> None:
    print(f"    {'ok  ' if invariant else 'FAIL'} {what}")
    if not invariant:
        failures.append(what)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--kill-after", type=int, default=300, help="provider calls before the first worker is killed")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker (prefork)")
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=30,
        help="bulk-queue's SQS visibility timeout, seconds (production: 300)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="a bound on each wait, seconds")
    args = parser.parse_args()
    if not 0 < args.kill_after < args.recipients:
        parser.error("--kill-after must be between 0 and --recipients")
    tmp = Path(tempfile.mkdtemp(prefix="bulk-crash-bench-"))
    # The workers send LIVE to the local fake (this process), as the crash test's do.
    os.environ.update({"SEND_MODE": "LIVE", "ALLOW_LIVE_AGAINST_FAKE": "true", "RATE_LIMIT_SMS": "1000"})
    server, _counting, fake = start_local_aws(tmp)
    first = second = None
    try:
        from django.conf import settings
        from django.contrib.auth import get_user_model

        from bulk import actions, queries, sending, sweep
        from bulk.audience import AudienceSpec
        from bulk.queries import all_recipients

        settings.CELERY_TASK_ALWAYS_EAGER = False  # publish to SQS, where the workers take it
        set_visibility_timeout(args.visibility_timeout)
        print(
            f"bulk crash benchmark: {args.recipients} SMS recipients, LIVE to the local fake,"
            f" celery prefork -c {args.concurrency};"
            f" kill -9 after {args.kill_after} calls; visibility timeout {args.visibility_timeout} s; logs in {tmp}"
        )
        began = time.perf_counter()
        contacts = make_contacts(args.recipients, channel="sms")
        print(f"  {args.recipients} contacts written in {time.perf_counter() - began:.1f} s")
        calls = lambda: len(fake.calls("SendTextMessage"))  # noqa: E731

        began = time.perf_counter()
        job = actions.start_job(
            AudienceSpec(contact_ids=contacts),
            {"text": "Crash bench"},
            channel="sms",
            sender=None,
            user=get_user_model()(username="bench-operator"),
            confirm=True,
            previewed_count=args.recipients,
        )
        print(f"  job started in {time.perf_counter() - began:.1f} s")

        first = start_worker(tmp / "worker1.log", args.concurrency)
        until_first_call = wait_for(
            lambda: calls() > 0 or first.poll() is not None, args.timeout, "the first provider call", every=0.25
        )
        until_kill = wait_for(
            lambda: calls() >= args.kill_after or first.poll() is not None,
            args.timeout,
            f"{args.kill_after} calls",
            every=0.25,
        )
        if first.poll() is not None:
            raise SystemExit(f"the first worker exited with {first.returncode}; see {tmp / 'worker1.log'}")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        at_kill = calls()
        print(
            f"  first worker: first call {until_first_call:.1f} s after its start (start-up and preparation), killed"
            f" {until_kill:.1f} s later at {at_kill} calls ({at_kill / until_kill:.1f} calls/s)"
        )

        second = start_worker(tmp / "worker2.log", args.concurrency)
        began = time.perf_counter()
        seen: list[Counter] = []

        def settled() -> bool:
            # Nobody pending, and nothing changed since the last look: only what the killed worker
            # left "sending" is not final, and no worker is working any more.
            seen.append(Counter(r.status for r in all_recipients(job.jobId)))
            return seen[-1]["pending"] == 0 and len(seen) > 1 and seen[-1] == seen[-2]

        wait_for(settled, args.timeout, "the second worker to finish every chunk")
        finished = time.perf_counter() - began
        after_kill = calls() - at_kill
        print(
            f"  second worker: {after_kill} calls, settled {finished:.1f} s after its start (including the wait for the"
            f" killed worker's chunks to come back, and {POLL_SECONDS:.0f} s of looking that nothing changes)"
        )

        swept = sweep.sweep_stuck(older_than=timedelta(0))
        job = queries.get_job(job.jobId)
        recipients = list(all_recipients(job.jobId))
        by_status = Counter(r.status for r in recipients)
        called = Counter(c["params"]["DestinationPhoneNumber"] for c in fake.calls("SendTextMessage"))
        sent = {r.address for r in recipients if r.status == "sent"}
        unknown = {r.address for r in recipients if r.status == "unknown"}
        print(
            f"  sweep: {swept}; final: {dict(by_status)}; provider calls {sum(called.values())};"
            f" unknown {len(unknown)} ({len(unknown & set(called))} of them called)"
        )

        failures: list[str] = []
        print("  invariants:")
        check(set(by_status) <= {"sent", "unknown"}, "every recipient final: sent or unknown", failures)
        check(len(recipients) == args.recipients, "every recipient written once", failures)
        check(max(called.values(), default=0) <= 1, "nobody called twice", failures)
        check(sent <= set(called), "every recipient marked sent was called", failures)
        check(set(called) - sent <= unknown, "a call without a sent record is an unknown recipient", failures)
        check(
            len(unknown) <= args.concurrency * sending.max_unrecorded(),
            f"at most max_unrecorded() ({sending.max_unrecorded()}) per killed process",
            failures,
        )
        check(
            (job.status, job.sentCount, job.unknownCount) == ("completed", len(sent), len(unknown)),
            "the job completed with those counts",
            failures,
        )
        return 1 if failures else 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        fake.stop()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
