#!/usr/bin/env python3
"""Outbound benchmark: N WhatsApp messages through the whole send path, drained by a real Celery
worker on the local stack (moto for DynamoDB/SQS/S3, the local fake for WhatsApp in LIVE mode).

    .venv/bin/python bench/outbound_bench.py                  # 300 messages, DRY_RUN then LIVE
    .venv/bin/python bench/outbound_bench.py --messages 1000 --limit 80

Phases, each printed with its figures:
  1. enqueue: send.send_message for every message (gate, record "queued", SQS) in this process;
  2. drain, unthrottled (per-number limit set far above what the stack can do): the worker's
     messages/s is the local stack's capacity;
  3. drain with the per-number limit at --limit (80/s) or, if the stack cannot carry that, half
     of the measured capacity: the achieved rate and the largest count in any 1-second window,
     both from the rate limiter's own windows and from the messages' recorded send times.
DynamoDB requests are counted at the moto server (every process's requests, by operation), and
the worker's CPU time is read from /proc, so the figures are per message for the whole path.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import celery_worker  # noqa: E402  (bench/ is on the path from here on)

CLK_TCK = os.sysconf("SC_CLK_TCK")


class CountingApp:
    """WSGI middleware in front of moto: counts DynamoDB requests by operation, from any process."""

    def __init__(self, app):
        self.app, self.lock, self.counts = app, Lock(), Counter()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            with self.lock:
                self.counts[target.split(".", 1)[1]] += 1
        return self.app(environ, start_response)

    def snapshot(self) -> Counter:
        with self.lock:
            return Counter(self.counts)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_aws(tmp: Path) -> tuple[object, CountingApp, object]:
    moto_port, fake_port = free_port(), free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "wecare.settings",
            "ENVIRONMENT": "development",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
            "AWS_FAKE_ENDPOINT_URL": f"http://127.0.0.1:{fake_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "LOG_LEVEL": "WARNING",
            "SEND_RETRY_BASE_SECONDS": "0.05",
        }
    )
    from localaws import emulator

    emulator.install()  # DynamoDB-like atomic writes, cheap transaction backups
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    server.start()
    counting = CountingApp(server._server.app)
    server._server.app = counting
    import logging

    import django

    django.setup()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request log
    from localaws.fakeaws import FakeAwsServer

    fake = FakeAwsServer(host="127.0.0.1", port=fake_port, s3_endpoint_url=os.environ["AWS_ENDPOINT_URL"]).start()
    from wecare.bootstrap import bootstrap

    bootstrap()
    return server, counting, fake


def make_contacts(n: int, channel: str = "whatsapp") -> list[str]:
    """n contacts opted in to ``channel`` (WhatsApp ones inside their window), written in batches
    (no uniqueness keys: the numbers never repeat)."""
    from ulid import ULID

    from contacts.models import LIVE, Contact
    from wecare.dynamo import now

    at = now()
    consent: dict = (
        {"optInWhatsApp": True, "lastInboundMessageAt": at - timedelta(minutes=5)}
        if channel == "whatsapp"
        else {"optInSms": True}
    )
    ids = []
    with Contact.batch_write() as batch:
        for i in range(n):
            contact_id = str(ULID())
            batch.save(
                Contact(
                    contactId=contact_id,
                    name=f"Bench {i}",
                    phone=f"+1415{2000000 + i:07d}",
                    **consent,
                    createdAt=at,
                    updatedAt=at,
                    liveList=LIVE,
                )
            )
            ids.append(contact_id)
    return ids


def enqueue(contact_ids: list[str], sender: str, tag: str) -> tuple[list[str], float]:
    from messaging.outbound import send

    started = time.perf_counter()
    ids = [
        send.send_message(
            {"contactId": cid, "channel": "whatsapp", "sender": sender, "text": f"{tag} {i}"}, user=None, source="bench"
        ).messageId
        for i, cid in enumerate(contact_ids)
    ]
    return ids, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


def drain(message_ids: list[str], *, mode: str, limit: int, tmp: Path, counting: CountingApp, timeout: float) -> dict:
    """Start a worker, wait until every message is final, stop it; return the figures."""
    from messaging.models import Message

    env = {
        **os.environ,
        "SEND_MODE": mode,
        "ALLOW_LIVE_AGAINST_FAKE": "true",
        "RATE_LIMIT_WHATSAPP_PER_NUMBER": str(limit),
        "RATE_LIMIT_WHATSAPP_ACCOUNT": str(max(limit, 1000)),
    }
    log = open(tmp / f"worker-{mode}-{limit}.log", "ab")  # noqa: SIM115
    before = counting.snapshot()
    started = time.perf_counter()
    worker = subprocess.Popen(
        celery_worker.argv("outbound-queue", 8, pool="threads"),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    pending = set(message_ids)
    final: dict[str, Message] = {}
    try:
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}; see {log.name}")
            time.sleep(0.5)
            for batch_start in range(0, len(pending), 100):
                chunk = list(pending)[batch_start : batch_start + 100]
                for message in Message.batch_get(chunk, attributes_to_get=["messageId", "status", "statusHistory"]):
                    if message.status in ("sent", "failed", "refused"):
                        final[message.messageId] = message
            pending -= set(final)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    if pending:
        raise SystemExit(
            f"{len(pending)} of {len(message_ids)} messages not final "
            f"after {timeout:.0f}s ({mode}, limit {limit}); see {log.name}"
        )
    sent_at = [next(c.at for c in m.statusHistory if c.status == "sent") for m in final.values() if m.status == "sent"]
    first, last = min(sent_at), max(sent_at)
    per_second = Counter(int(t.timestamp()) for t in sent_at)
    call_starts = [
        float(next(c.details for c in m.statusHistory if c.status == "sent")["providerCallStartedAt"])
        for m in final.values()
        if m.status == "sent"
    ]
    statuses = Counter(m.status for m in final.values())
    requests = counting.snapshot() - before
    # BatchGetItem is this script polling for final statuses; the send path never uses it.
    polling = requests.pop("BatchGetItem", 0)
    return {
        "mode": mode,
        "limit": limit,
        "messages": len(message_ids),
        "statuses": dict(statuses),
        "wall_s": elapsed,
        "send_span_s": (last - first).total_seconds(),
        "rate": len(sent_at) / max((last - first).total_seconds(), 1e-9) if len(sent_at) > 1 else float("nan"),
        "max_per_second": max(per_second.values()) if per_second else 0,
        "per_second": [per_second[s] for s in sorted(per_second)],
        "call_starts": call_starts,
        "dynamodb": dict(requests),
        "dynamodb_per_message": sum(requests.values()) / len(message_ids),
        "polling_requests": polling,
        "cpu_ms_per_message": 1000 * cpu / len(message_ids),
    }


def limiter_windows(sender: str, since: float) -> list[int]:
    from messaging.models import RateLimitTracker

    return [
        int(t.messageCount)
        for t in RateLimitTracker.query(f"whatsapp#{sender}", RateLimitTracker.windowStart >= int(since))
    ]


def report(result: dict, limiter: list[int] | None = None) -> None:
    print(f"  {result['mode']:<8} limit {result['limit']:>6}/s  {result['messages']} messages  {result['statuses']}")
    print(f"    achieved rate (first to last send): {result['rate']:.1f} messages/s over {result['send_span_s']:.1f}s")
    print(
        "    largest count in any 1-second window of recorded 'sent' times "
        f"(recorded after the call, so bunched): {result['max_per_second']}"
    )
    if limiter is not None:
        print(
            "    largest count in any limiter window (RateLimitTrackers): "
            f"{max(limiter) if limiter else 0} over {len(limiter)} windows"
        )
    print(
        "    DynamoDB requests per message in the worker path: "
        f"{result['dynamodb_per_message']:.2f}  {dict(sorted(result['dynamodb'].items()))}"
    )
    print(f"    worker CPU per message (user+system, all threads): {result['cpu_ms_per_message']:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--limit", type=int, default=80, help="per-number limit for the throttled phase (messages/s)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="outbound-bench-"))
    server, counting, fake = start_local_aws(tmp)
    try:
        from django.conf import settings

        sender = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
        contacts = make_contacts(args.messages)
        print(
            f"outbound benchmark: {args.messages} WhatsApp messages per "
            f"phase; worker: celery threads pool, 8 threads; logs in {tmp}"
        )

        mark = counting.snapshot()
        ids, seconds = enqueue(contacts, sender, "dry")
        per = sum((counting.snapshot() - mark).values()) / len(ids)
        print(
            f"  enqueue (gate + record + SQS, in this process): {len(ids) / seconds:.1f} "
            f"messages/s, DynamoDB requests per message {per:.2f}"
        )

        results = []
        dry = drain(ids, mode="DRY_RUN", limit=100_000, tmp=tmp, counting=counting, timeout=args.timeout)
        report(dry)
        results.append(dry)

        live_ids, _ = enqueue(contacts, sender, "live")
        fake.reset()
        live = drain(live_ids, mode="LIVE", limit=100_000, tmp=tmp, counting=counting, timeout=args.timeout)
        report(live)
        print(f"    provider calls received by the fake: {len(fake.calls('SendWhatsAppMessage'))}")
        results.append(live)

        capacity = min(dry["rate"], live["rate"])
        limit = args.limit if capacity >= args.limit else max(1, int(capacity / 2))
        why = (
            "as asked"
            if limit == args.limit
            else f"half the measured capacity ({capacity:.1f}/s), since the stack cannot carry {args.limit}/s"
        )
        print(f"  throttled phase: per-number limit {limit}/s ({why})")
        throttled_ids, _ = enqueue(contacts, sender, "throttled")
        since = time.time()
        fake.reset()
        throttled = drain(throttled_ids, mode="LIVE", limit=limit, tmp=tmp, counting=counting, timeout=args.timeout)
        report(throttled, limiter_windows(sender, since))
        # The sender boundary: when each provider call began (recorded by the worker), and, for
        # comparison, when each reached the fake (later by the call's own latency and this
        # process's scheduling, so its seconds can bunch).
        starts = throttled["call_starts"]
        per_second = Counter(int(t) for t in starts)
        busiest = max(per_second.values()) if per_second else 0
        full = [per_second[s] for s in sorted(per_second)][1:-1]  # whole seconds only (not the first and last)
        steady = sum(full) / len(full) if full else float("nan")
        arrivals = Counter(
            int(datetime.fromisoformat(c["time"].replace("Z", "+00:00")).timestamp())
            for c in fake.calls("SendWhatsAppMessage")
        )
        print(
            f"    provider calls started: {len(starts)}; largest count in "
            f"any 1-second window {busiest}; steady rate {steady:.1f}/s"
        )
        print(
            "    (arrivals at the fake, same calls: largest count in any "
            f"1-second window {max(arrivals.values()) if arrivals else 0})"
        )
        print(
            f"    achieved / limit: {100 * steady / limit:.1f} %  (never "
            f"above the limit at the sender boundary: {busiest <= limit})"
        )
        throttled["provider_max_per_second"] = busiest
        throttled["provider_steady_rate"] = steady
        results.append(throttled)
        (tmp / "results.json").write_text(json.dumps(results, indent=2, default=str))
        return 0
    finally:
        fake.stop()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
