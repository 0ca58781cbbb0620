"""Settings for the crash test's worker subprocesses: the test settings, plus

* LIVE sends to the local fake the test process runs (AWS_FAKE_ENDPOINT_URL, loopback), so the
  fake's call log counts provider calls across processes, at the sender boundary;
* rate limits high enough that the test waits on the stack, not on the SMS limit;
* several provider calls in flight per process, so the kill lands while calls are under way.
"""

from wecare.tests.settings import *  # noqa: F403

SEND_MODE = "LIVE"  # only ever to the loopback fake: AWS_FAKE_ENDPOINT_URL is the test's own
SEND_RETRY_BASE_SECONDS = 0.01
RATE_LIMIT_SMS = 1000
CELERY_TASK_ALWAYS_EAGER = False
BULK_SEND_CONCURRENCY = 8
