#!/usr/bin/env python3
"""Bulk benchmark: a DRY_RUN WhatsApp job of N recipients (10,000 by default) started through
bulk.actions.start_job and sent by REAL Celery worker processes on bulk-queue, on the local stack
(moto through localaws.emulator in this process, SQS as the broker).

    .venv/bin/python bench/bulk_bench.py                       # 10,000 recipients, 4 worker processes
    .venv/bin/python bench/bulk_bench.py --recipients 1000     # a quicker run
    .venv/bin/python bench/bulk_bench.py --concurrency 2 --limit 80

Phases, each a fresh job over the same contacts (opted in, inside their 24 h window, so free text
is allowed and the WhatsApp tier is not involved):
  1. unthrottled: the per-number limit far above what the stack can carry; recipients/s is the
     local stack's capacity;
  2. throttled: the per-number limit at --limit (80/s) or, if the capacity is below that, half of
     the measured capacity; the achieved rate and the largest count in any 1-second window at the
     sender boundary, never above the limit being the target.

How each figure is measured (see bench/README.md for the reasoning):
  * DynamoDB requests: a WSGI counter in front of moto counts every request by operation, from any
    process. The job start (this process) and the send (the workers) are counted apart; the
    script's own polling is sent with a "bench-poll" user agent and left out.
  * Write units: computed, not taken from ConsumedCapacity (moto answers a fixed 1.0 whatever
    the item). Every write request's items are recorded; at the end each item's final size is
    read back and charged as DynamoDB does: ceil(size / 1 KB) per item write, twice inside a
    transaction, plus one write per GSI the item is in (its projected size). An UpdateItem is
    charged on the item's final size (DynamoDB charges the larger of before and after).
  * App CPU: user + system time of the worker processes (the prefork parent and its children,
    from /proc) between "idle and ready" and "job completed", divided by the recipients; the job
    start's own CPU is this thread's CPU time around start_job (moto runs on other threads).
  * Sender boundary: each Messages item's "sent" time (the provider call's start,
    providerCallStartedAt, when the worker records it; otherwise the time the outcome was
    recorded, which the output then says).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from threading import Lock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import celery_worker  # noqa: E402  (bench/ is on the path from here on)
from outbound_bench import cpu_seconds, make_contacts, start_local_aws  # noqa: E402  (same local stack and contacts as the outbound bench)

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
POLL_AGENT = "bench-poll"


class RecordingApp:
    """WSGI middleware in front of moto: per phase, DynamoDB requests by operation (the script's
    own polling apart) and the items each write request touched, for the write-unit figure."""

    def __init__(self, app):
        self.app, self.lock = app, Lock()
        self.counts: Counter = Counter()
        self.polling: Counter = Counter()
        self.writes: list[tuple[str, str, dict, bool]] = []  # (table, kind, item or key, transactional)

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            operation = target.split(".", 1)[1]
            if POLL_AGENT in environ.get("HTTP_USER_AGENT", ""):
                with self.lock:
                    self.polling[operation] += 1
            else:
                body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(body)
                writes = _writes(operation, json.loads(body or b"{}")) if operation in WRITE_OPS else []
                with self.lock:
                    self.counts[operation] += 1
                    self.writes.extend(writes)
        return self.app(environ, start_response)

    def take(self) -> tuple[Counter, list]:
        """What was counted since the last take, and start afresh."""
        with self.lock:
            counts, writes = self.counts, self.writes
            self.counts, self.writes, self.polling = Counter(), [], Counter()
        return counts, writes


def _writes(operation: str, body: dict) -> list[tuple[str, str, dict, bool]]:
    if operation == "PutItem":
        return [(body["TableName"], "put", body["Item"], False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(body["TableName"], operation[:6].lower(), body["Key"], False)]
    if operation == "BatchWriteItem":
        return [
            (table, "put", r["PutRequest"]["Item"], False)
            if "PutRequest" in r
            else (table, "delete", r["DeleteRequest"]["Key"], False)
            for table, requests in body["RequestItems"].items()
            for r in requests
        ]
    found = []
    for entry in body.get("TransactItems", []):
        kind, spec = next(iter(entry.items()))
        if kind == "Put":
            found.append((spec["TableName"], "put", spec["Item"], True))
        elif kind in ("Update", "Delete"):
            found.append((spec["TableName"], kind.lower(), spec["Key"], True))
        # ConditionCheck: charged as a write by DynamoDB too, on the item read
        elif kind == "ConditionCheck":
            found.append((spec["TableName"], "update", spec["Key"], True))
    return found


def attribute_size(value: dict) -> int:
    """Bytes DynamoDB counts for one attribute value (its documented item-size rules)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return 1 + math.ceil(len(digits) / 2) + (1 if inner.startswith("-") else 0)
    if kind == "B":
        return len(inner) * 3 // 4  # base64 on the wire
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in inner.items())
    return sum(attribute_size({kind[0]: v}) for v in inner)  # SS, NS, BS


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(writes: list[tuple[str, str, dict, bool]]) -> dict:
    """Write units of the recorded writes, from the items' final sizes (read back from moto)."""
    dynamodb = polling_client()  # its reads come after the phase's counts were taken
    tables = {t: dynamodb.describe_table(TableName=t)["Table"] for t in {w[0] for w in writes}}

    def key_of(table: str, item: dict) -> tuple:
        return tuple(
            item[k["AttributeName"]]["S"] if "S" in item[k["AttributeName"]] else item[k["AttributeName"]]["N"]
            for k in tables[table]["KeySchema"]
        )

    wanted: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for table, kind, item, _ in writes:
        if kind in ("update", "delete"):
            wanted[table][key_of(table, item)] = item
    final: dict[tuple[str, tuple], dict] = {}
    for table, keys in wanted.items():
        keys = list(keys.values())
        for start in range(0, len(keys), 100):
            pending = {table: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while pending:
                answer = dynamodb.batch_get_item(RequestItems=pending)
                for item in answer["Responses"].get(table, []):
                    final[(table, key_of(table, item))] = item
                pending = answer.get("UnprocessedKeys") or {}
    base = gsi = 0
    by_table: Counter = Counter()
    for table, kind, item, transactional in writes:
        if kind in ("update", "delete"):
            item = final.get((table, key_of(table, item)), item)  # a deleted item: its key's size
        units = math.ceil(max(item_size(item), 1) / 1024) * (2 if transactional else 1)
        base += units
        by_table[table] += units
        for index in tables[table].get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in index["KeySchema"]]
            if all(k in item for k in keys):
                projection = index["Projection"]
                if projection["ProjectionType"] == "ALL":
                    size = item_size(item)
                else:
                    names = (
                        set(keys)
                        | {k["AttributeName"] for k in tables[table]["KeySchema"]}
                        | set(projection.get("NonKeyAttributes", []))
                    )
                    size = item_size({n: v for n, v in item.items() if n in names})
                gsi += math.ceil(max(size, 1) / 1024)
    return {"base": base, "gsi": gsi, "by_table": dict(by_table)}


def start_recorded_aws(tmp: Path):
    """The outbound bench's local stack, with every DynamoDB request recorded (RecordingApp)."""
    server, _counting, fake = start_local_aws(tmp)
    recorder = RecordingApp(server._server.app)
    server._server.app = recorder
    return server, fake, recorder


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process and every descendant still running (the prefork children)."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += cpu_seconds(current)
        except OSError:
            continue
        todo.extend(children.get(current, []))
    return total


class Workers:
    """One `celery worker -Q bulk-queue -c N` (prefork), as production runs the bulk service."""

    def __init__(self, concurrency: int, limit: int, log: Path):
        env = {
            **os.environ,
            "SEND_MODE": "DRY_RUN",
            "RATE_LIMIT_WHATSAPP_PER_NUMBER": str(limit),
            "RATE_LIMIT_WHATSAPP_ACCOUNT": str(max(limit, 1000)),
        }
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            celery_worker.argv("bulk-queue", concurrency),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.concurrency = concurrency

    def wait_idle(self, timeout: float = 120) -> None:
        """Until the parent and its children exist and their CPU time stops growing (start-up
        done), so the job's CPU is not charged with Django's and Celery's start."""
        deadline, last = time.monotonic() + timeout, -1.0
        while time.monotonic() < deadline:
            self.check()
            time.sleep(1.0)
            cpu = process_tree_cpu(self.process.pid)
            if cpu - last < 0.03 and self.children() >= self.concurrency:
                return
            last = cpu
        raise SystemExit("the workers did not settle within the time allowed; see the worker log")

    def children(self) -> int:
        return sum(1 for stat in Path("/proc").glob("[0-9]*/stat") if _ppid(stat) == self.process.pid)

    def cpu(self) -> float:
        return process_tree_cpu(self.process.pid)

    def check(self) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"the worker exited with {self.process.returncode}; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def _ppid(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


def run_job(
    contacts: list[str],
    *,
    sender: str,
    limit: int,
    concurrency: int,
    recorder: RecordingApp,
    tmp: Path,
    timeout: float,
    label: str,
) -> dict:
    from bulk import actions
    from bulk.audience import AudienceSpec
    from bulk.models import BulkJob

    workers = Workers(concurrency, limit, tmp / f"workers-{label}.log")
    try:
        workers.wait_idle()
        recorder.take()
        cpu_before = workers.cpu()
        thread_cpu = time.thread_time()
        started = time.perf_counter()
        job = actions.start_job(
            AudienceSpec(contact_ids=contacts),
            {"text": f"Bench {label}"},
            channel="whatsapp",
            sender=sender,
            user=None,
            confirm=True,
            previewed_count=len(contacts),
        )
        start_seconds = time.perf_counter() - started
        start_cpu = time.thread_time() - thread_cpu
        start_counts, start_writes = recorder.take()
        poller = polling_client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            workers.check()
            item = poller.get_item(
                TableName=BulkJob.Meta.table_name, Key={"jobId": {"S": job.jobId}}, ConsistentRead=True
            )["Item"]
            if "completedAt" in item or item["status"]["S"] in ("cancelled", "failed"):
                break
            time.sleep(0.5)
        drain_seconds = time.perf_counter() - started - start_seconds
        cpu = workers.cpu() - cpu_before
        send_counts, send_writes = recorder.take()
        job = BulkJob.get(job.jobId, consistent_read=True)
    finally:
        workers.stop()
    if not job.completedAt:
        raise SystemExit(
            f"job {job.jobId} not completed after {timeout:.0f}s (status "
            f"{job.status}, {job.finished_count}/{job.totalRecipients}); see {tmp}"
        )
    timing = sender_boundary(job.jobId)
    n = len(contacts)
    return {
        "label": label,
        "limit": limit,
        "recipients": n,
        "job": job.jobId,
        "status": job.status,
        "counts": {
            "sent": int(job.sentCount),
            "failed": int(job.failedCount),
            "skipped": int(job.skippedCount),
            "cancelled": int(job.cancelledCount),
            "unknown": int(job.unknownCount),
        },
        "start_seconds": start_seconds,
        "start_cpu_ms_per_recipient": 1000 * start_cpu / n,
        "job_seconds": (job.completedAt - job.startedAt).total_seconds() if job.startedAt else float("nan"),
        "drain_seconds": drain_seconds,
        "start_requests": dict(start_counts),
        "send_requests": dict(send_counts),
        "start_wcu": write_units(start_writes),
        "send_wcu": write_units(send_writes),
        "worker_cpu_ms_per_recipient": 1000 * cpu / n,
        **timing,
    }


def sender_boundary(job_id: str) -> dict:
    """Per sent recipient, the second its provider call started (or, failing that, when the
    outcome was recorded); the rate over the sends and the busiest 1-second windows."""
    from bulk.queries import all_recipients
    from messaging.models import Message

    message_ids = [r.messageId for r in all_recipients(job_id) if r.status == "sent" and r.messageId]
    starts, recorded = [], []
    for start in range(0, len(message_ids), 100):
        for message in Message.batch_get(
            message_ids[start : start + 100], attributes_to_get=["messageId", "statusHistory"]
        ):
            sent = next((c for c in message.statusHistory if c.status == "sent"), None)
            if sent is None:
                continue
            recorded.append(sent.at.timestamp())
            started = (sent.details or {}).get("providerCallStartedAt")
            if started is not None:
                starts.append(float(started))
    source = (
        "provider call start (providerCallStartedAt)"
        if len(starts) == len(recorded) and starts
        else "time the outcome was recorded (the worker does not record the call's start)"
    )
    times = sorted(starts if source.startswith("provider") else recorded)
    if len(times) < 2:
        return {
            "boundary": source,
            "rate": float("nan"),
            "max_calendar_second": len(times),
            "max_sliding_second": len(times),
            "steady_rate": float("nan"),
        }
    per_second = Counter(int(t) for t in times)
    whole = [per_second[s] for s in sorted(per_second)][1:-1]  # the first and last seconds are partial
    return {
        "boundary": source,
        "rate": (len(times) - 1) / (times[-1] - times[0]),
        "steady_rate": sum(whole) / len(whole) if whole else float("nan"),
        "max_calendar_second": max(per_second.values()),
        "max_sliding_second": _max_sliding(times),
        "send_span_seconds": times[-1] - times[0],
    }


def _max_sliding(times: list[float]) -> int:
    """The largest number of sends in any window [t, t + 1 s) (not only whole clock seconds)."""
    best, left = 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def report(result: dict) -> None:
    n = result["recipients"]
    send, start = result["send_requests"], result["start_requests"]
    print(
        f"  {result['label']}: per-number limit {result['limit']}/s, "
        f"job {result['job']} {result['status']} {result['counts']}"
    )
    print(
        "    start_job (preview again, write job + recipients + chunks, queue): "
        f"{result['start_seconds']:.1f}s, {result['start_cpu_ms_per_recipient']:.2f} ms CPU per recipient"
    )
    print(
        f"    job running (startedAt -> completedAt): {result['job_seconds']:.1f}s "
        f"= {n / result['job_seconds']:.1f} recipients/s"
    )
    print(
        f"    sender boundary ({result['boundary']}): rate {result['rate']:.1f}/s over "
        f"{result.get('send_span_seconds', 0):.1f}s, steady {result['steady_rate']:.1f}/s;"
        f" largest count in one clock second {result['max_calendar_second']}, "
        f"in any sliding 1-second window {result['max_sliding_second']}"
    )
    total_send, total_start = sum(send.values()), sum(start.values())
    print(
        f"    DynamoDB requests per recipient: {(total_send + total_start) / n:.2f} "
        f"(send {total_send / n:.2f} + start {total_start / n:.2f})"
    )
    print(f"      send:  {dict(sorted(send.items()))}")
    print(f"      start: {dict(sorted(start.items()))}")
    wcu_send, wcu_start = result["send_wcu"], result["start_wcu"]
    print(
        "    write units per recipient (computed from item sizes): base "
        f"tables {(wcu_send['base'] + wcu_start['base']) / n:.2f}, "
        f"GSIs {(wcu_send['gsi'] + wcu_start['gsi']) / n:.2f}; send {dict(sorted(wcu_send['by_table'].items()))}"
    )
    print(
        f"    app CPU per recipient: workers {result['worker_cpu_ms_per_recipient']:.2f} "
        "ms (user+system, prefork parent and children)"
        f" + start_job {result['start_cpu_ms_per_recipient']:.2f} ms (this thread)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument(
        "--concurrency", type=int, default=4, choices=range(2, 6), help="bulk worker processes (2-5, as in production)"
    )
    parser.add_argument("--limit", type=int, default=80, help="per-number limit for the throttled phase (recipients/s)")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument(
        "--throttled-recipients",
        type=int,
        default=None,
        help="recipients in the throttled phase (default: as many as "
        "the limit sends in 2 minutes, at most --recipients)",
    )
    parser.add_argument("--skip-throttled", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    server, fake, recorder = start_recorded_aws(tmp)
    try:
        from django.conf import settings

        settings.CELERY_TASK_ALWAYS_EAGER = False
        sender = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
        made = time.perf_counter()
        contacts = make_contacts(args.recipients)
        print(
            f"bulk benchmark: {args.recipients} WhatsApp recipients per job, DRY_RUN, "
            f"celery prefork -c {args.concurrency} on bulk-queue; logs in {tmp}"
        )
        print(f"  {args.recipients} contacts written in {time.perf_counter() - made:.1f}s")
        results = []
        unthrottled = run_job(
            contacts,
            sender=sender,
            limit=100_000,
            concurrency=args.concurrency,
            recorder=recorder,
            tmp=tmp,
            timeout=args.timeout,
            label="unthrottled",
        )
        report(unthrottled)
        results.append(unthrottled)
        if not args.skip_throttled:
            capacity = args.recipients / unthrottled["job_seconds"]
            limit = args.limit if capacity >= args.limit else max(1, int(capacity / 2))
            why = (
                "as asked"
                if limit == args.limit
                else f"half the measured capacity of {capacity:.1f}/s, since the stack cannot carry {args.limit}/s"
            )
            print(f"  throttled phase: per-number limit {limit}/s ({why})")
            # At a low limit the whole audience would take most of an hour; two minutes of
            # sending shows the rate and its windows just as well (the output says how many).
            size = min(args.recipients, args.throttled_recipients or limit * 120)
            print(f"  throttled phase: {size} recipients")
            throttled = run_job(
                contacts[:size],
                sender=sender,
                limit=limit,
                concurrency=args.concurrency,
                recorder=recorder,
                tmp=tmp,
                timeout=args.timeout,
                label="throttled",
            )
            report(throttled)
            achieved = throttled["steady_rate"]
            print(
                f"    achieved / limit: {100 * achieved / limit:.1f} % (steady rate "
                "over whole seconds); never above the limit in a clock second:"
                f" {throttled['max_calendar_second'] <= limit}; in any "
                f"sliding second: {throttled['max_sliding_second'] <= limit}"
            )
            results.append(throttled)
        (tmp / "results.json").write_text(json.dumps(results, indent=2, default=str))
        return 0
    finally:
        fake.stop()
        server.stop()


def polling_client():
    """A DynamoDB client of the script's own, marked so the request counter leaves it out."""
    import boto3
    import botocore.config
    from django.conf import settings

    return boto3.client(
        "dynamodb",
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region_name=settings.AWS_REGION,
        config=botocore.config.Config(user_agent_extra=POLL_AGENT),
    )


if __name__ == "__main__":
    sys.exit(main())
