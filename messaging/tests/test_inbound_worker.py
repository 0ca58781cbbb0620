"""A real Celery worker over SQS (moto) is killed with SIGKILL in the middle of an inbound event,
after the message is recorded and before its follow-ups (window, media, auto-reply): SQS hands the
event to the next worker once the visibility timeout passes, and the event ends up processed
exactly once — one message, one unread, the media fetched once.

How the kill lands mid-task: the worker runs with ``inbound_worker_settings``, which installs
``inbound_pause`` in that worker alone: the first task to record a message stops there and waits
(production code has no pause of its own). The queue's visibility timeout is cut to a few seconds for this
test only, and put back afterwards; production keeps its 300 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from messaging.inbound.process import process_inbound_event
from messaging.models import Message
from messaging.tests.inbound_pause import pause_marker
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.aws import client
from wecare.celery import app
from wecare.queues import queue_url
from wecare.tests import workers

pytestmark = [pytest.mark.django_db, pytest.mark.worker]
VISIBILITY_SECONDS = 3


def start_worker(log_path: Path) -> subprocess.Popen:
    return workers.start_worker(
        log_path, queues="inbound-queue,default", settings_module="messaging.tests.inbound_worker_settings"
    )


def wait_for(check, what: str, worker: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds  # a bound on waiting, not a speed assertion
    while time.monotonic() < deadline:
        if check():
            return
        assert worker.poll() is None, f"the worker died while waiting for {what}"
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def short_visibility():
    sqs = client("sqs")
    url = queue_url(
        "inbound-queue",
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region=settings.AWS_REGION,
        account_id=settings.AWS_ACCOUNT_ID,
        prefix=settings.SQS_QUEUE_PREFIX,
    )
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
        "VisibilityTimeout"
    ]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS)})
    yield
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": before})


@pytest.fixture
def publish_for_real():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


def item(wamid: str) -> WaMessage | None:
    try:
        return WaMessage.get(WaMessage.key(wamid), consistent_read=True)
    except WaMessage.DoesNotExist:
        return None


def test_a_worker_killed_mid_event_leaves_it_processed_exactly_once_after_redelivery(
    fake_aws_clean, short_visibility, publish_for_real, new_phone, tmp_path
):
    marker = Path(pause_marker())
    marker.unlink(missing_ok=True)
    phone = new_phone()
    body, sent = inbound("inbound_image", phone=phone)
    media_id = sent["image"]["id"]
    log_path = tmp_path / "workers.log"
    first = start_worker(log_path)
    second = None
    try:
        process_inbound_event.delay(message=body, sns_message_id="sns-killed")
        wait_for(marker.exists, "the first worker to reach the pause", first)
        recorded = item(sent["id"])
        assert recorded is not None and recorded.followUpDispatchedAt is None and recorded.s3Key is None

        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        second = start_worker(log_path)
        wait_for(
            lambda: (i := item(sent["id"])) is not None and bool(i.s3Key) and bool(i.followUpDispatchedAt),
            "the redelivered event to finish",
            second,
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        marker.unlink(missing_ok=True)
        print(log_path.read_text()[-4000:] if log_path.exists() else "")

    done = item(sent["id"])
    assert len(list(Message.by_contact.query(done.contactId))) == 1
    assert WaConversation.get(done.conversationPk, consistent_read=True).unreadCount == 1
    assert [c["params"]["mediaId"] for c in fake_aws_clean.calls("GetWhatsAppMessageMedia")] == [media_id]
