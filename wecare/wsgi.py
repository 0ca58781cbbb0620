"""WSGI entry point for gunicorn. A configuration error stops the worker with one clear line."""

import os

from wecare.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecare.settings")

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except ConfigError as exc:  # pragma: no cover - exercised by the container start-up
    raise SystemExit(f"configuration error: {exc}") from None
