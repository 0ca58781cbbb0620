"""Settings for the worker subprocess of ``test_inbound_worker.py``: the test settings plus the
pause point that lets the test kill the worker mid-task (see messaging/inbound/process.py).

The marker file's name comes from the test session's moto port, so the test and its worker agree
on it without another environment variable."""

import os
import tempfile
from urllib.parse import urlparse

from wecare.tests.settings import *  # noqa: F403


def pause_marker() -> str:
    port = urlparse(os.environ["AWS_ENDPOINT_URL"]).port
    return os.path.join(tempfile.gettempdir(), f"wecare-inbound-pause-{port}")


INBOUND_TEST_PAUSE_MARKER = pause_marker()
CELERY_TASK_ALWAYS_EAGER = False
