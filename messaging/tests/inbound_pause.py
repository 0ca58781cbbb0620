"""The pause that lets ``test_inbound_worker.py`` kill a worker mid-event: the message recorded,
its follow-ups (window, media, auto-reply) not yet done.

``install`` wraps ``messaging.inbound.process.record`` from outside, in the test's worker only
(its settings module calls it): the first task whose message is newly recorded writes the marker
file and waits to be killed; later ones, the redelivery among them, pass straight through. The
marker's name comes from the test session's moto port, so the test and its worker agree on it
without another environment variable.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from urllib.parse import urlparse

from celery.signals import worker_init, worker_process_init


def pause_marker() -> str:
    port = urlparse(os.environ["AWS_ENDPOINT_URL"]).port
    return os.path.join(tempfile.gettempdir(), f"wecare-inbound-pause-{port}")


def _pause_after_record(record):
    @functools.wraps(record)
    def recording_then_pausing(*args, **kwargs):
        result = record(*args, **kwargs)
        marker = pause_marker()
        if result.new and not os.path.exists(marker):
            with open(marker, "w") as handle:
                handle.write(str(os.getpid()))
            while True:
                time.sleep(1)
        return result

    return recording_then_pausing


def _wrap_record(**_: object) -> None:
    # Imported here, once the worker has set Django up: this module is loaded with the settings.
    from messaging.inbound import process

    if not getattr(process.record, "__wrapped__", None):
        process.record = _pause_after_record(process.record)


def install() -> None:
    """Wrap ``record`` as the worker starts (the solo pool runs tasks in the worker process itself;
    a prefork pool's children are covered by ``worker_process_init``)."""
    worker_init.connect(_wrap_record, weak=False)
    worker_process_init.connect(_wrap_record, weak=False)
