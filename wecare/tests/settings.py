"""Settings for the test suite: the local stack's settings (localaws/settings.py), fed a test environment.

Each test process gets its own moto server on a free loopback port (chosen here, before the
settings are read, and inherited by any worker subprocess a test starts), also under pytest-xdist.
"""

import os
import socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Chosen once per test process and inherited by the worker subprocesses its tests start. Under
# pytest-xdist every test process (gw0, gw1, ...) also inherits the controller's environment, ports
# included: a process that finds ports chosen for another one chooses its own.
_PORTS_FOR = os.environ.get("PYTEST_XDIST_WORKER", "main")
if os.environ.get("WECARE_TEST_PORTS_FOR", _PORTS_FOR) != _PORTS_FOR:
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_FAKE_ENDPOINT_URL", None)
os.environ["WECARE_TEST_PORTS_FOR"] = _PORTS_FOR

os.environ["ENVIRONMENT"] = "development"
os.environ["SEND_MODE"] = "DRY_RUN"
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
# The local fake of the APIs moto lacks (localaws/fakeaws) gets its own port the same way; the
# `fake_aws` fixture (conftest.py) starts it there.
os.environ.setdefault("AWS_FAKE_ENDPOINT_URL", f"http://127.0.0.1:{_free_port()}")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("OIDC_RP_CLIENT_ID", "wecare-test-client")
os.environ.setdefault("OIDC_RP_CLIENT_SECRET", "test-client-secret")
os.environ.setdefault("COGNITO_DOMAIN", "http://localhost:1")  # replaced by the OIDC test's provider
# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run
# there unless told the test knows what it is doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The dev stack's settings: the real ones plus the localaws app (dev_snapshot), never in production.
from localaws.settings import *  # noqa: E402,F403

CELERY_TASK_ALWAYS_EAGER = True  # tests that need a real worker start one (wecare/tests/test_worker.py)
# The search index's task ran (eagerly) after every message of every test, for the few that search:
# those turn it on with the `search_indexing` fixture (conftest.py) and index through the real path.
INBOX_SEARCH_INDEXING = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
LOGGING["loggers"]["werkzeug"] = {"level": "WARNING"}  # noqa: F405  (moto's request log)
WHITENOISE_AUTOREFRESH = True  # serve static from the finders; no collectstatic before tests
WHITENOISE_USE_FINDERS = True
