"""Settings for the worker subprocess of ``test_inbound_worker.py``: the test settings, tasks
published to SQS for real, and the pause that lets the test kill the worker mid-task
(``messaging/tests/inbound_pause.py``), installed in this worker only."""

from messaging.tests import inbound_pause
from wecare.tests.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
inbound_pause.install()
