"""The command line of the real Celery worker a benchmark starts: one place for the flags every
bench uses (no heartbeat, gossip or mingle, which only slow a single worker's start; warnings only)."""

from __future__ import annotations

import sys


def argv(queue: str, concurrency: int, *, pool: str | None = None) -> list[str]:
    """``celery -A wecare worker`` on ``queue`` with ``concurrency`` processes (or threads, with
    ``pool="threads"``), run by this interpreter."""
    pool_args = ["--pool", pool] if pool else []
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "wecare",
        "worker",
        "-Q",
        queue,
        *pool_args,
        "-c",
        str(concurrency),
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
