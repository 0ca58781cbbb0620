"""Settings for the worker subprocess of ``test_outbound_threads.py``: the test settings, LIVE sends
to the local fake the test process runs (loopback only), tasks published to SQS for real."""

from wecare.tests.settings import *  # noqa: F403

SEND_MODE = "LIVE"  # only ever to the loopback fake: AWS_FAKE_ENDPOINT_URL is the test's own
SEND_RETRY_BASE_SECONDS = 0.01
CELERY_TASK_ALWAYS_EAGER = False
