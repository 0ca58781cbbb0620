"""The Celery app: SQS broker (moto on the local stack), settings from Django (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecare.settings")

app = Celery("wecare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def create_aws_clients(**_: object) -> None:
    """A prefork worker process builds its boto3 session and DynamoDB clients as it starts (the
    session alone is over a hundred milliseconds of CPU), so its first message does not wait for
    them. Clients open no connection until their first request."""
    # Imported here: this module is loaded before Django is set up, and these read its settings.
    from wecare import aws, dynamo

    aws.client("dynamodb")
    dynamo.models_client()
