#!/usr/bin/env python3
"""Inbound benchmark: N signed SNS notifications posted at POST /webhooks/sns/, processed by a
real Celery worker on inbound-queue, on the local stack.

    .venv/bin/python bench/inbound_bench.py                     # 500 events, 4 posters
    .venv/bin/python bench/inbound_bench.py --events 200 --posters 1

Each event is one of the EUM inbound samples (text, image, document, list reply, reaction) with
its own WhatsApp message id, from one of --customers senders, wrapped in an SNS envelope signed
like SNS signs it (SignatureVersion 2, the test key of messaging/tests/sns_signing.py, whose
certificate the webhook's loader is pointed at; every other check runs as in production).

The webhook is Django's WSGI app in a threaded server in this process, so ack latency is the
whole verify-and-enqueue path over HTTP. The worker (threads pool) drains inbound-queue; the
run ends when every message's MSG# item exists. Figures:
  - webhook ack latency p50 / p99 / max (nearest-rank), and acks/s while posting;
  - processed events/s end to end: N / (first post → last message recorded, from the items'
    own receivedAt), and the wall clock until this script saw them all;
  - DynamoDB requests per inbound message, counted at the moto server from every process, by
    operation (this script's polling, BatchGetItem, left out), and worker CPU per message.
Media downloads (a separate task on the same queue) and the auto-reply (queue ``default``, not
consumed here) are not waited for; their DynamoDB requests are counted if they ran in the window.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import celery_worker  # noqa: E402  (bench/ is on the path from here on)
from outbound_bench import cpu_seconds, free_port, start_local_aws  # noqa: E402  (the same local stack)

INBOUND_SAMPLES = (
    "inbound_text",
    "inbound_image",
    "inbound_document",
    "inbound_interactive_list_reply",
    "inbound_reaction",
)


def start_webhook_server() -> tuple[str, object]:
    """Django's WSGI app on a threaded server (what runserver uses), in a daemon thread."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:  # one line per request would be most of the output
            pass

    port = free_port()
    server = ThreadedWSGIServer(("127.0.0.1", port), QuietHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}/webhooks/sns/", server


def make_events(n: int, customers: int) -> list[tuple[str, str]]:
    """(wamid, signed envelope JSON) for n events from `customers` distinct senders."""
    from django.conf import settings

    from messaging.tests import inbound_samples
    from messaging.tests.sns_signing import notification

    phones = [f"+91981{2000000 + i:07d}" for i in range(customers)]
    events = []
    for i in range(n):
        body, message = inbound_samples.inbound(INBOUND_SAMPLES[i % len(INBOUND_SAMPLES)], phone=phones[i % customers])
        events.append((message["id"], json.dumps(notification(body, topic_arn=settings.SNS_TOPIC_ARN))))
    return events


def post_all(url: str, events: list[tuple[str, str]], posters: int) -> tuple[list[float], float, list[int]]:
    import requests

    session_local = threading.local()

    def post(envelope: str) -> tuple[float, int]:
        session = getattr(session_local, "session", None) or requests.Session()
        session_local.session = session
        started = time.perf_counter()
        response = session.post(
            url, data=envelope.encode(), headers={"Content-Type": "text/plain; charset=UTF-8"}, timeout=30
        )
        return time.perf_counter() - started, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=posters) as pool:
        results = list(pool.map(post, [envelope for _, envelope in events]))
    return [r[0] for r in results], time.perf_counter() - started, [r[1] for r in results]


def nearest_rank(values: list[float], percentile: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(-(-percentile * len(ordered) // 100)) - 1)]


def wait_recorded(wamids: list[str], timeout: float, worker: subprocess.Popen, log_name: str) -> dict[str, str]:
    """wamid → receivedAt, once every MSG# item exists."""
    from messaging.whatsapp_table import WaMessage

    pending, seen = set(wamids), {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}; see {log_name}")
        time.sleep(0.5)
        keys = [WaMessage.key(w) for w in pending]
        for start in range(0, len(keys), 100):
            for item in WaMessage.batch_get(keys[start : start + 100]):
                seen[item.pk.removeprefix("MSG#")] = item.receivedAt
        pending -= set(seen)
    if pending:
        raise SystemExit(f"{len(pending)} of {len(wamids)} messages not recorded after {timeout:.0f}s; see {log_name}")
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--posters", type=int, default=4, help="concurrent HTTP clients posting at the webhook")
    parser.add_argument("--customers", type=int, default=50, help="distinct senders (conversations repeat)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="inbound-bench-"))
    server, counting, fake = start_local_aws(tmp)
    webhook = None
    try:
        from django.conf import settings

        # The one thing not as in production: the certificate comes from the bench's own key.
        settings.SNS_CERT_LOADER = "messaging.tests.sns_signing.load_test_certificate"
        url, webhook = start_webhook_server()
        events = make_events(args.events, args.customers)
        print(
            f"inbound benchmark: {args.events} signed events, {args.posters} posters, "
            f"worker: celery threads pool, {args.threads} threads; logs in {tmp}"
        )

        log = open(tmp / "worker.log", "ab")  # noqa: SIM115
        worker = subprocess.Popen(
            celery_worker.argv("inbound-queue", args.threads, pool="threads"),
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # One untimed event first: the webhook's first enqueue opens the SQS connection, and the
            # worker's first task creates its clients; neither is what a running system pays per event.
            warm_wamid, warm_envelope = make_events(1, 1)[0]
            cold_ms = 1000 * post_all(url, [(warm_wamid, warm_envelope)], 1)[0][0]
            wait_recorded([warm_wamid], args.timeout, worker, log.name)
            cpu_before = cpu_seconds(worker.pid)
            before = counting.snapshot()
            first_post = datetime.now().astimezone()
            started = time.perf_counter()
            latencies, posting_s, statuses = post_all(url, events, args.posters)
            if set(statuses) != {200}:
                raise SystemExit(f"the webhook answered {sorted(set(statuses))}, expected only 200")
            recorded = wait_recorded([w for w, _ in events], args.timeout, worker, log.name)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(worker.pid) - cpu_before
            requests_made = counting.snapshot() - before
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log.close()
        requests_made.pop("BatchGetItem", 0)  # this script polling; the inbound path never uses it
        last = max(datetime.fromisoformat(at.replace("Z", "+00:00")) for at in recorded.values())
        span = (last - first_post).total_seconds()
        per_message = sum(requests_made.values()) / args.events
        ms = [1000 * s for s in latencies]
        print(f"  first (untimed, cold) ack: {cold_ms:.0f} ms")
        print(
            f"  webhook ack latency: p50 {nearest_rank(ms, 50):.1f} ms, p99 "
            f"{nearest_rank(ms, 99):.1f} ms, max {max(ms):.1f} ms, mean {statistics.mean(ms):.1f} ms"
        )
        print(f"  acks: {args.events / posting_s:.1f} events/s while posting ({posting_s:.1f} s)")
        print(
            f"  processed end to end: {args.events / span:.1f} events/s "
            f"(first post to last message recorded, {span:.1f} s); "
            f"all seen by polling after {wall:.1f} s"
        )
        print(f"  DynamoDB requests per inbound message: {per_message:.2f}  {dict(sorted(requests_made.items()))}")
        print(f"  worker CPU per message (user+system, all threads): {1000 * cpu / args.events:.1f} ms")
        (tmp / "results.json").write_text(
            json.dumps(
                {
                    "latencies_ms": ms,
                    "span_s": span,
                    "wall_s": wall,
                    "dynamodb": dict(requests_made),
                    "cpu_s": cpu,
                    "events": args.events,
                },
                indent=2,
            )
        )
        return 0
    finally:
        if webhook is not None:
            webhook.shutdown()
        fake.stop()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
