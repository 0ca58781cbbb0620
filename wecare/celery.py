"""The Celery app: SQS broker (moto on the local stack), settings from Django (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecare.settings")

app = Celery("wecare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
