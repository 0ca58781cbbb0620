"""Several calls started at the same instant, as concurrent deliveries of one event arrive."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from celery._state import _set_task_join_will_block


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread, all released together; their results (in the order they
    finished). Any exception fails the test with all of them listed."""
    start = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results.append(call())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        # Celery's eager apply_async wraps each call in denied_join_result(), which saves and
        # restores a process-global flag; threads interleaving can leave it set, and every later
        # test's result.get() would then refuse to run. A worker process never shares it so.
        _set_task_join_will_block(False)
    assert not errors, errors
    return results
