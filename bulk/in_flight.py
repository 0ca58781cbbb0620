"""Provider calls a bulk chunk has under way at once: a thread pool of ``limit`` threads, so one
worker process keeps up with the rate limit however long each call takes (a call waits on the
network, not on the CPU). Why threads rather than asyncio or gevent: docs/design/bulk-sending.md."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class InFlight:
    """Runs work on pool threads, at most ``limit`` at a time. ``submit`` waits for a free thread,
    so the caller never runs ahead of the calls (it claims recipients only as fast as they go
    out). The first error a pool thread raises is raised again in the caller's thread by the next
    ``submit`` or by ``close``; after it, nothing more is started."""

    def __init__(self, limit: int, *, name: str = "bulk-send"):
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.limit = limit
        self._pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix=name)
        self._changed = threading.Condition()  # guards _running and _error; notified as work ends
        self._running = 0
        self._error: BaseException | None = None

    @property
    def running(self) -> int:
        return self._running

    def submit(self, work: Callable[[], object]) -> None:
        self.check()
        with self._changed:
            self._changed.wait_for(lambda: self._running < self.limit)
            self._running += 1
        try:
            self._pool.submit(self._run, work)
        except BaseException:
            self._finished()
            raise

    def _run(self, work: Callable[[], object]) -> None:
        try:
            if self._error is None:  # after an error, what was already queued does not start
                work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
            with self._changed:
                self._error = self._error or exc
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Until some work finishes (or ``timeout`` seconds pass)."""
        with self._changed:
            self._changed.wait(timeout)
        self.check()

    def close(self) -> None:
        """Wait for every piece of work to end, then raise the first error, if any."""
        self._pool.shutdown(wait=True)
        self.check()

    def check(self) -> None:
        """Raise the first error a pool thread raised, if any."""
        if self._error is not None:
            raise self._error
