"""Celery finds tasks in ``<app>.tasks``: this module only imports the modules that define the
project's own tasks, so a worker registers them."""

from wecare import heartbeat  # noqa: F401  wecare.heartbeat
