#!/usr/bin/env python3
"""`make bench`: contact import throughput, DynamoDB requests per contact, and search latency,
measured on the local stack (a moto server on loopback), through the real code paths.

    .venv/bin/python bench/contacts_bench.py              # 10,000 rows, import run in this process
    .venv/bin/python bench/contacts_bench.py --rows 500   # quick check (well under a minute)
    .venv/bin/python bench/contacts_bench.py --worker     # import on a real Celery worker

What it does, in order: starts its own moto server on a free loopback port, points the
environment at it (as localaws/devstack.py does) before Django starts, creates every AWS resource
(wecare.bootstrap), writes a CSV of N contacts, imports it through contacts.imports.start_import
(stores the file in S3, then the Celery task runs contacts.imports.run_import: in this process
with Celery in eager mode by default, or on a worker subprocess with --worker), checks that every
row was created, then runs searches through contacts.queries.search_contacts and prints a report.
Every HTTP request botocore sends from this process is counted (see ``RequestCounter``). The moto
server (and the worker) are stopped at the end, on failure and on Ctrl-C. bench/README.md
explains each figure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

FIRST_NAMES = (
    "Aarav",
    "Aditi",
    "Amara",
    "Ananya",
    "Arjun",
    "Beatriz",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Diya",
    "Elena",
    "Fatima",
    "Gabriel",
    "Hana",
    "Ibrahim",
    "Isha",
    "Jamal",
    "Kavya",
    "Kenji",
    "Lakshmi",
    "Liam",
    "Maya",
    "Mei",
    "Mohammed",
    "Nadia",
    "Neha",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rahul",
    "Rohan",
    "Sara",
    "Sofia",
    "Tariq",
    "Vikram",
    "Wei",
    "Yara",
    "Zoe",
)
LAST_NAMES = (
    "Agarwal",
    "Bhatt",
    "Chowdhury",
    "Costa",
    "Das",
    "Fernandes",
    "Garcia",
    "Gupta",
    "Haddad",
    "Iyer",
    "Jain",
    "Kapoor",
    "Khan",
    "Kim",
    "Kumar",
    "Lopez",
    "Mehta",
    "Menon",
    "Mukherjee",
    "Nair",
    "Nakamura",
    "Okafor",
    "Patel",
    "Pillai",
    "Rao",
    "Reddy",
    "Rossi",
    "Sanchez",
    "Sen",
    "Shah",
    "Sharma",
    "Singh",
    "Smith",
    "Tanaka",
    "Thomas",
    "Verma",
    "Wang",
    "Williams",
    "Yadav",
    "Zhang",
)
PROGRESS_SECONDS = 30
SEARCH_MIX = {"phone": 0.35, "email": 0.35, "substring": 0.30}


class BenchFailure(Exception):
    """A check failed: the message is the one line printed."""


# --- the local stack --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchFailure(f"moto server exited with {proc.returncode}; see {log}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise BenchFailure(f"moto server did not answer at {url} within {seconds:.0f}s; see {log}")


def set_environment(endpoint: str, tmp: Path) -> None:
    """What localaws/devstack.py sets, pointed at this run's moto server and a throwaway SQLite.
    Forced (not setdefault), so a developer's shell can never point the bench at anything else."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "wecare.settings",
            "ENVIRONMENT": "development",
            "SEND_MODE": "DRY_RUN",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AWS_ENDPOINT_URL": endpoint,
            # Dummy credentials for the emulator only.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "CELERY_BROKER_URL", "AWS_FAKE_ENDPOINT_URL"):
        os.environ.pop(name, None)
    # The app logs JSON at INFO (an audit line per import, ...); keep the report readable.
    os.environ.setdefault("LOG_LEVEL", "WARNING")


class Children:
    """Subprocesses we started, each in its own session so Ctrl-C reaches us first; stopped in
    reverse order at the end, whatever happens."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], log: Path) -> subprocess.Popen:
        out = open(log, "ab")  # noqa: SIM115 - lives as long as the child
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        self.procs.append((name, proc))
        return proc

    def exited(self, grace: float = 2.0) -> str:
        """'; moto exited with -15'... for children that are gone or going: a server stopped from
        outside closes its socket before its process ends, so give them a moment."""
        deadline = time.monotonic() + grace
        for _, proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        return "".join(
            f"; {name} had exited with {proc.returncode}" for name, proc in self.procs if proc.poll() is not None
        )

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for _, proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


# --- counting DynamoDB requests ---------------------------------------------------------------


class RequestCounter:
    """Counts every HTTP request botocore sends from this process, by service and operation.

    botocore's ``before-send.<service>.<Operation>`` event fires once per HTTP attempt (retries
    included), just before the request goes on the wire. Handlers live on a botocore *session*,
    and sessions come and go: PynamoDB gives every model's Connection one session per thread
    (created on first use), ``wecare.dynamo`` has its own Connection for transactions, and
    ``wecare.aws.client`` makes a boto3 session per service. Registering on the sessions that
    exist at one moment would miss requests from those created later, so the handlers go into
    botocore's list of built-in handlers, which every session registers when it is created.
    Nothing is wrapped or patched; they are installed before Django starts, so before any
    session exists.

    The same way it times each request (``before-send`` to ``response-received``: the round trip
    to moto, parsing included) and counts the botocore clients created
    (``creating-client-class.<service>``). A second, independent count of DynamoDB calls comes
    from PynamoDB's ``pre_dynamodb_send`` signal (once per Connection.dispatch, so per API call,
    without retries); the report shows both.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.http: Counter[str] = Counter()  # "dynamodb.TransactWriteItems" -> requests
        self.seconds: Counter[str] = Counter()  # "dynamodb.TransactWriteItems" -> seconds on the wire
        self.clients: Counter[str] = Counter()  # "dynamodb" -> botocore clients created
        self.pynamodb: Counter[str] = Counter()  # "TransactWriteItems" -> PynamoDB dispatches
        self.transactions: list[float] = []  # each TransactWriteItems round trip, in order

    def install(self) -> None:
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.append(("before-send", self._on_send))
        handlers.BUILTIN_HANDLERS.append(("response-received", self._on_response))
        handlers.BUILTIN_HANDLERS.append(("creating-client-class", self._on_client))
        from pynamodb.signals import pre_dynamodb_send

        pre_dynamodb_send.connect(self._on_dispatch, weak=False)

    @staticmethod
    def _name(event_name: str) -> str:
        parts = event_name.split(".")
        return ".".join(parts[1:3]) if len(parts) >= 3 else event_name

    def _on_send(self, event_name: str = "", **_) -> None:
        with self.lock:
            self.http[self._name(event_name)] += 1
        self.local.sent = time.perf_counter()
        return None  # None: botocore goes on and sends the request

    def _on_response(self, event_name: str = "", **_) -> None:
        sent = getattr(self.local, "sent", None)
        if sent is None:
            return
        self.local.sent = None
        elapsed = time.perf_counter() - sent
        name = self._name(event_name)
        with self.lock:
            self.seconds[name] += elapsed
            if name == "dynamodb.TransactWriteItems":
                self.transactions.append(elapsed)

    def _on_client(self, event_name: str = "", **_) -> None:
        with self.lock:
            self.clients[event_name.split(".", 1)[-1]] += 1

    def _on_dispatch(self, sender, operation_name: str = "?", **_) -> None:
        with self.lock:
            self.pynamodb[operation_name] += 1

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "http": Counter(self.http),
                "seconds": Counter(self.seconds),
                "clients": Counter(self.clients),
                "pynamodb": Counter(self.pynamodb),
                "transactions": len(self.transactions),
            }

    def since(self, mark: dict) -> dict:
        now_ = self.snapshot()
        delta = {key: now_[key] - mark[key] for key in ("http", "seconds", "clients", "pynamodb")}
        with self.lock:
            delta["transactions"] = self.transactions[mark["transactions"] :]
        return delta


WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def dynamodb_ops(http: Counter[str]) -> Counter[str]:
    return Counter({key.split(".", 1)[1]: n for key, n in http.items() if key.startswith("dynamodb.")})


# --- the data ---------------------------------------------------------------------------------


def make_contacts(rows: int, rng: random.Random) -> list[dict[str, str]]:
    """Names, unique valid E.164 phones (US, IN, GB mobile, checked with phonenumbers), unique
    emails, opt-ins on for some of them."""
    import phonenumbers

    shapes = (("+1", 10, "2-9"), ("+91", 10, "6-9"), ("+447", 9, "0-9"))
    phones: set[str] = set()
    contacts = []
    while len(contacts) < rows:
        prefix, length, first = shapes[rng.randrange(len(shapes))]
        lo, hi = (int(x) for x in first.split("-"))
        digits = str(rng.randint(lo, hi)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
        phone = prefix + digits
        if phone in phones or not phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            continue
        phones.add(phone)
        i = len(contacts)
        first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contacts.append(
            {
                "name": f"{first_name} {last_name}",
                "phone": phone,
                "email": f"{first_name}.{last_name}.{i}@example.com".lower(),
                "optInWhatsApp": "true" if rng.random() < 0.6 else "false",
                "optInSms": "true" if rng.random() < 0.3 else "false",
                "optInEmail": "true" if rng.random() < 0.4 else "",
            }
        )
    return contacts


def to_csv(contacts: list[dict[str, str]]) -> bytes:
    import csv
    import io

    from contacts.csv_io import IMPORT_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=IMPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(contacts)
    return out.getvalue().encode()


# --- the import -------------------------------------------------------------------------------


def _progress(counter: RequestCounter, rows: int, started: float, done: threading.Event) -> None:
    """Every 30 s, how far the in-process import is, from the transactions counted so far (one
    per created row), so reading progress sends no request of its own."""
    first = counter.snapshot()["http"]["dynamodb.TransactWriteItems"]
    while not done.wait(PROGRESS_SECONDS):
        created = counter.snapshot()["http"]["dynamodb.TransactWriteItems"] - first
        elapsed = time.perf_counter() - started
        print(f"  ... {created:,}/{rows:,} rows after {elapsed:.0f}s ({created / elapsed:.1f} rows/s)", flush=True)


def run_import(
    content: bytes, rows: int, *, worker: bool, tmp: Path, children: Children, counter: RequestCounter
) -> tuple[float, str]:
    """Import through contacts.imports.start_import; returns (seconds, import id)."""
    from contacts import imports
    from wecare.celery import app

    user = imports._ImportUser("bench")
    if not worker:
        # start_import stores the file in S3, saves the ContactImport and calls
        # run_import_task.delay(); eager mode runs that task (contacts.imports.run_import_task) right
        # here, so every request is made, and counted, in this process.
        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = True
        done = threading.Event()
        started = time.perf_counter()
        threading.Thread(target=_progress, args=(counter, rows, started, done), daemon=True).start()
        try:
            job = imports.start_import(content, user=user)
        finally:
            done.set()
        return time.perf_counter() - started, job.importId

    log = tmp / "celery-worker.log"
    proc = children.start(
        "worker", [str(BIN / "celery"), "-A", "wecare", "worker", "-Q", "default", "-c", "2", "--loglevel", "INFO"], log
    )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise BenchFailure(f"the Celery worker did not start; see {log}")
        time.sleep(0.2)
    started = time.perf_counter()
    job = imports.start_import(content, user=user)
    # A stalled import (worker crash, broken task) must not hang the bench. Rows take ~13 ms
    # here; 1 row/s is a floor far below that.
    limit = 300 + rows
    deadline = time.monotonic() + limit
    next_report = time.monotonic() + PROGRESS_SECONDS
    while True:
        time.sleep(0.25)
        job = imports.get_import(job.importId)
        if job.status in ("completed", "failed"):
            break
        if proc.poll() is not None:
            raise BenchFailure(f"the Celery worker exited with {proc.returncode} during the import; see {log}")
        if time.monotonic() > deadline:
            raise BenchFailure(
                f"import not finished after {limit}s ({job.processedRows}/{rows} rows, status {job.status}); see {log}"
            )
        if time.monotonic() > next_report:
            next_report += PROGRESS_SECONDS
            elapsed = time.perf_counter() - started
            print(f"  ... {job.processedRows:,}/{rows:,} rows after {elapsed:.0f}s (status {job.status})", flush=True)
    return time.perf_counter() - started, job.importId


def check_import(job, rows: int) -> int:
    from contacts.models import LIVE, Contact

    if job.status != "completed":
        raise BenchFailure(f"import {job.importId} ended with status {job.status}")
    if job.errorRows:
        raise BenchFailure(f"import reported {len(job.errorRows)} bad rows, first: {job.errorRows[0]}")
    if job.createdCount != rows or job.processedRows != rows:
        raise BenchFailure(
            f"import created {job.createdCount} and processed {job.processedRows} of {rows} rows "
            f"(already there: {job.existingCount})"
        )
    live = Contact.live.count(LIVE)
    if live != rows:
        raise BenchFailure(f"{live} live contacts after importing {rows} rows")
    return live


# --- the searches -----------------------------------------------------------------------------


def search_queries(
    contacts: list[dict[str, str]], count: int, rng: random.Random
) -> list[tuple[str, str, dict | None]]:
    """(kind, query, the contact an exact search must find). Substring queries mix a common
    3-letter piece of a last name (first page fills fast), a full name (a handful of matches
    spread over the table) and a string no contact has (the worst case: reads MAX_SCANNED)."""
    queries = []
    kinds = rng.choices(list(SEARCH_MIX), weights=list(SEARCH_MIX.values()), k=count)
    for kind in kinds:
        contact = rng.choice(contacts)
        if kind == "phone":
            queries.append((kind, contact["phone"], contact))
        elif kind == "email":
            email = contact["email"]
            queries.append((kind, email.upper() if rng.random() < 0.2 else email, contact))
        else:
            roll = rng.random()
            if roll < 0.4:
                last = rng.choice(LAST_NAMES).lower()
                start = rng.randrange(len(last) - 2)
                q = last[start : start + 3]
            elif roll < 0.8:
                q = contact["name"]
            else:
                q = "zq" + "".join(rng.choice("xjvw") for _ in range(3))  # no name, email or phone has it
            queries.append((kind, q, None))
    return queries


def run_searches(queries, counter: RequestCounter) -> list[dict]:
    from contacts.queries import search_contacts

    results = []
    for kind, q, expected in queries:
        mark = counter.snapshot()
        started = time.perf_counter()
        page = search_contacts(q)
        elapsed = time.perf_counter() - started
        dynamo = sum(dynamodb_ops(counter.since(mark)["http"]).values())
        if kind in ("phone", "email"):
            if len(page.items) != 1 or page.items[0].phone != expected["phone"]:
                raise BenchFailure(
                    f"{kind} search for {q!r} found {[c.phone for c in page.items]}, expected {expected['phone']}"
                )
        else:
            needle = q.lower()
            for contact in page.items:
                if needle not in " ".join(filter(None, [contact.nameLower, contact.email, contact.phone])):
                    raise BenchFailure(f"substring search for {q!r} returned {contact.name!r} {contact.email!r}")
        results.append(
            {
                "kind": kind,
                "q": q,
                "seconds": elapsed,
                "scanned": page.scanned,
                "found": len(page.items),
                "more": page.next_cursor is not None,
                "requests": dynamo,
            }
        )
    return results


# --- the report -------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: an actual sample, never an interpolation. With fewer than 100
    samples, p99 is the slowest one."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(headers: list[str], rows: list[list], indent: str = "  ") -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]
    fmt = indent + "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    lines = [fmt.format(*headers), indent + "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*map(str, row)) for row in rows]
    return "\n".join(lines)


def transaction_overhead(samples: int = 30) -> tuple[float, float]:
    """Median seconds per two-item TransactWriteItems (i) through wecare.dynamo.transaction(),
    as create_contact sends it; (ii) through PynamoDB's TransactWrite on one Connection kept
    across calls, the floor. Same items, same moto, taken in turns (A, B, A, B...) so a pause
    hits neither side more: a gap means the app pays for something per transaction, e.g. a new
    botocore client (~0.3 s here), as wecare.dynamo did until it kept one Connection. The items
    are throwaway ContactUniqueKeys ("bench#..."), deleted afterwards; no contact is touched."""
    from django.conf import settings
    from pynamodb.connection import Connection
    from pynamodb.transactions import TransactWrite

    from contacts.models import ContactUniqueKey
    from wecare.dynamo import transaction

    shared = Connection(region=settings.AWS_REGION, host=settings.AWS_ENDPOINT_URL)
    sides = {"app": transaction, "reused": lambda: TransactWrite(connection=shared)}
    keys: list[str] = []

    def once(side: str, i: int) -> float:
        started = time.perf_counter()
        with sides[side]() as tx:
            for part in ("a", "b"):
                keys.append(f"bench#{side}{i}{part}")
                tx.save(
                    ContactUniqueKey(uniqueKey=keys[-1], contactId="bench"),
                    condition=ContactUniqueKey.uniqueKey.does_not_exist(),
                )
        return time.perf_counter() - started

    for side in sides:  # first use: botocore client, connection pool, endpoint rules; not timed
        once(side, -1)
    timings: dict[str, list[float]] = {side: [] for side in sides}
    for i in range(samples):
        for side in sides:
            timings[side].append(once(side, i))
    with ContactUniqueKey.batch_write() as batch:
        for key in keys:
            batch.delete(ContactUniqueKey(uniqueKey=key))
    return statistics.median(timings["app"]), statistics.median(timings["reused"])


def import_report(
    rows: int,
    seconds: float,
    live: int,
    counted: dict,
    overhead: tuple[float, float],
    moto_requests: int,
    *,
    worker: bool,
) -> list[str]:
    out = ["Import"]
    # With --worker the import's requests are sent by the worker process; this process only
    # stored the file and polled, so its counts say nothing per contact.
    ops = Counter() if worker else dynamodb_ops(counted["http"])
    dynamo_total = sum(ops.values())
    writes = sum(n for op, n in ops.items() if op in WRITE_OPS)
    figures = [
        ["rows imported (created; checked by counting live contacts)", f"{live:,}"],
        ["wall clock, start_import until the job is completed", f"{seconds:.1f} s"],
        ["throughput", f"{rows / seconds:.1f} rows/s"],
        ["time per row", f"{seconds / rows * 1000:.1f} ms"],
    ]
    if dynamo_total:
        wire = sum(v for k, v in counted["seconds"].items() if k.startswith("dynamodb."))
        clients = counted["clients"].get("dynamodb", 0)
        fresh, reused = overhead
        per_client = max(0.0, fresh - reused)
        other = max(0.0, seconds - sum(counted["seconds"].values()) - clients * per_client)
        figures += [
            ["DynamoDB HTTP requests (botocore before-send)", f"{dynamo_total:,}"],
            ["DynamoDB requests per contact", f"{dynamo_total / rows:.3f}"],
            ["  writes per contact", f"{writes / rows:.3f}"],
            ["  reads per contact", f"{(dynamo_total - writes) / rows:.3f}"],
            ["PynamoDB API calls (pre_dynamodb_send signal), cross-check", f"{sum(counted['pynamodb'].values()):,}"],
            ["HTTP requests moto logged during the import (all services)", f"{moto_requests:,}"],
            ["botocore DynamoDB clients created during the import", f"{clients:,}"],
            ["where a row's time goes:", ""],
            ["  DynamoDB round trips to moto (on the wire), per row", f"{wire / rows * 1000:.1f} ms"],
            [
                "  a fresh botocore client (clients x A-B below), per row",
                f"{clients * per_client / rows * 1000:.1f} ms",
            ],
            ["  everything else (validation, serialising, signing...)", f"{other / rows * 1000:.1f} ms"],
            ["A: 2-item transaction via wecare.dynamo.transaction(), median", f"{ms(fresh)} ms"],
            ["B: same on one PynamoDB Connection kept across calls, median", f"{ms(reused)} ms"],
        ]
        tx = counted["transactions"]
        if len(tx) >= 20:
            tenth = max(1, len(tx) // 10)
            figures.append(
                [
                    "TransactWriteItems round trip, first / last 10% of rows",
                    f"{ms(statistics.mean(tx[:tenth]))} / {ms(statistics.mean(tx[-tenth:]))} ms",
                ]
            )
    else:
        figures += [
            ["DynamoDB requests per contact", "n/a: the worker sends them"],
            ["HTTP requests moto logged during the import (all services)", f"{moto_requests:,}"],
        ]
    out.append(table(["figure", "value"], figures))
    if dynamo_total:
        other_services = Counter({k: n for k, n in counted["http"].items() if not k.startswith("dynamodb.")})
        op_rows = [
            [
                op,
                "write" if op in WRITE_OPS else "read",
                f"{n:,}",
                f"{n / rows:.4f}",
                ms(counted["seconds"][f"dynamodb.{op}"] / n),
            ]
            for op, n in ops.most_common()
        ]
        op_rows += [
            [name, "other AWS", f"{n:,}", f"{n / rows:.4f}", ms(counted["seconds"][name] / n)]
            for name, n in other_services.most_common()
        ]
        out += ["", "Requests during the import, by operation"]
        out.append(table(["operation", "kind", "requests", "per contact", "mean ms"], op_rows))
    return out


def search_report(searches: list[dict], page_size: int, max_scanned: int) -> list[str]:
    out = [
        f"Search: contacts.queries.search_contacts(q), first page (up to {page_size} results), {len(searches)} searches"
    ]
    labels = {
        "phone": "exact phone (phone-index GSI)",
        "email": "exact email (email-index GSI)",
        "substring": "name substring (liveList, filter)",
        "all": "all searches",
    }
    rows = []
    for kind in labels:
        picked = [s for s in searches if kind == "all" or s["kind"] == kind]
        if picked:
            latencies = [s["seconds"] for s in picked]
            rows.append(
                [
                    labels[kind],
                    len(picked),
                    ms(percentile(latencies, 50)),
                    ms(percentile(latencies, 99)),
                    ms(max(latencies)),
                    f"{statistics.mean(s['requests'] for s in picked):.2f}",
                ]
            )
    out.append(table(["kind", "n", "p50 ms", "p99 ms", "max ms", "DynamoDB requests/search"], rows))
    substring = [s for s in searches if s["kind"] == "substring"]
    if substring:
        groups = {
            "all substring searches": substring,
            "  3 letters of a last name": [s for s in substring if len(s["q"]) == 3],
            "  a full name": [s for s in substring if " " in s["q"]],
            "  matches nothing (worst case)": [s for s in substring if s["q"].startswith("zq")],
        }
        rows = []
        for label, picked in groups.items():
            if picked:
                scanned = [s["scanned"] for s in picked]
                rows.append(
                    [
                        label,
                        len(picked),
                        f"{statistics.mean(scanned):,.0f}",
                        f"{percentile(scanned, 50):,}",
                        f"{max(scanned):,}",
                        ms(percentile([s["seconds"] for s in picked], 50)),
                        f"{statistics.mean(s['found'] for s in picked):.1f}",
                        sum(s["more"] for s in picked),
                    ]
                )
        out += [
            "",
            "Substring searches: items read (ScannedCount) per search; a search "
            f"stops at {page_size} matches or after {max_scanned:,} items read",
        ]
        out.append(
            table(["searches", "n", "mean read", "p50 read", "max read", "p50 ms", "mean found", "with cursor"], rows)
        )
    return out


def moto_request_lines(log: Path) -> int:
    """Requests moto's HTTP server has logged (werkzeug writes one access-log line each)."""
    try:
        return len(re.findall(rb'HTTP/1\.[01][^"\n]*" \d{3} ', log.read_bytes()))
    except OSError:
        return 0


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="contacts in the CSV (default 10,000)")
    parser.add_argument("--searches", type=int, default=200, help="searches to time (default 200)")
    parser.add_argument("--worker", action="store_true", help="import on a real Celery worker subprocess (-c 2)")
    parser.add_argument(
        "--stock-moto",
        action="store_true",
        help="run the unchanged .venv/bin/moto_server instead of localaws.emulator "
        "(its transactions copy whole tables: hours for 10,000 rows)",
    )
    parser.add_argument("--seed", type=int, default=20240601, help="random seed for the data and the queries")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (moto and worker logs, CSV)")
    parser.add_argument("--traceback", action="store_true", help="print the full traceback on failure")
    args = parser.parse_args()
    if args.rows < 1 or args.searches < 1:
        parser.error("--rows and --searches must be at least 1")

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the bench as Ctrl-C does: through the finally below

    signal.signal(signal.SIGTERM, terminate)
    tmp = Path(tempfile.mkdtemp(prefix="contacts-bench-"))
    children = Children()
    failed = False
    try:
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        set_environment(endpoint, tmp)
        counter = RequestCounter()
        counter.install()  # before any botocore session exists

        moto_log = tmp / "moto.log"
        if args.stock_moto:
            server = "stock .venv/bin/moto_server (transactions copy whole tables: slower as the tables grow)"
            moto_cmd = [str(BIN / "moto_server")]
        else:
            server = (
                "python -m localaws.emulator (moto with serialized "
                "writes and per-item transaction backups), as make run"
            )
            moto_cmd = [sys.executable, "-m", "localaws.emulator"]
        moto = children.start("moto", [*moto_cmd, "-H", "127.0.0.1", "-p", str(port)], moto_log)
        print(f"moto server on {endpoint}: {server}; setting up...", flush=True)
        import django

        django.setup()
        wait_for(f"{endpoint}/moto-api/", moto, moto_log)
        from wecare.bootstrap import bootstrap

        bootstrap()

        rng = random.Random(args.seed)
        contacts = make_contacts(args.rows, rng)
        content = to_csv(contacts)
        (tmp / "contacts.csv").write_bytes(content)
        overhead = transaction_overhead()

        if args.worker:
            mode = (
                "Celery worker subprocess (celery -A wecare worker -Q "
                "default -c 2): start_import, then polling the ContactImport"
            )
        else:
            mode = (
                "in this process: contacts.imports.start_import, Celery "
                "eager, so the task's contacts.imports.run_import runs here"
            )
        print(f"importing {args.rows:,} rows ({len(content) / 1024:.0f} KiB CSV) {mode.split(':')[0]}...", flush=True)
        mark = counter.snapshot()
        moto_before = moto_request_lines(moto_log)
        seconds, import_id = run_import(
            content, args.rows, worker=args.worker, tmp=tmp, children=children, counter=counter
        )
        moto_during = moto_request_lines(moto_log) - moto_before
        counted = counter.since(mark)
        from contacts.imports import get_import

        live = check_import(get_import(import_id), args.rows)
        if moto.poll() is not None:
            raise BenchFailure(f"moto server exited with {moto.returncode}; see {moto_log}")

        print(f"import done in {seconds:.1f}s; running {args.searches} searches...", flush=True)
        queries = search_queries(contacts, args.searches, rng)
        search_contacts_warmup(contacts)
        searches = run_searches(queries, counter)

        from contacts.queries import MAX_SCANNED, PAGE_SIZE

        lines = [
            "",
            f"WECARE.DIGITAL contacts benchmark: {args.rows:,} contacts, local stack, {os.cpu_count()} cores",
            f"  moto:   {server}",
            f"  import: {mode}",
            "",
            *import_report(args.rows, seconds, live, counted, overhead, moto_during, worker=args.worker),
            "",
            *search_report(searches, PAGE_SIZE, MAX_SCANNED),
            "",
            f"command: {' '.join([_shown(sys.executable), *sys.argv])}",
        ]
        print("\n".join(lines), flush=True)
        return 0
    except KeyboardInterrupt:
        failed = True
        print(f"contacts_bench: interrupted; stopping the moto server (logs kept in {tmp})", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, as the Makefile target promises
        failed = True
        trace = tmp / "traceback.txt"
        trace.write_text(traceback.format_exc())
        if args.traceback:
            traceback.print_exc()
        where = children.exited() + ("" if isinstance(exc, BenchFailure) else f"; traceback: {trace}")
        where += f"; logs kept in {tmp}"
        print(f"contacts_bench: FAILED: {type(exc).__name__}: {exc}{where}".replace("\n", " "), file=sys.stderr)
        return 1
    finally:
        children.stop_all()
        if args.keep and not failed:
            print(f"logs kept in {tmp}")
        elif not failed:
            shutil.rmtree(tmp, ignore_errors=True)


def _shown(path: str) -> str:
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return path


def search_contacts_warmup(contacts) -> None:
    """One untimed search of each kind, so the first timed one pays no lazy client creation."""
    from contacts.queries import search_contacts

    search_contacts(contacts[0]["phone"])
    search_contacts(contacts[0]["email"])
    search_contacts("warm")


if __name__ == "__main__":
    sys.exit(main())
