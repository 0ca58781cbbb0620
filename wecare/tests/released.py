"""Child processes released at one moment, for tests of what several processes do at once (the
rate limiter's buckets, the media upload lease): each child prints "ready" once set up and then
waits for "go" on its stdin, so set-up time does not spread their start."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def released_together(modules: list[list[str]]) -> Iterator[list[subprocess.Popen]]:
    """Run ``python -m <module> <args>`` for each entry; yield the children once every one said
    "ready" and all were told "go". Any child still running when the block ends is killed."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in modules
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        yield children
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
