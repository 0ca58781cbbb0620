"""Single sends on the outbound-queue worker as production runs it: a threads pool
(docs/deployment.md, "Worker services"), against a provider that takes 300 ms a call. Calls
overlap, and each queued message is still sent exactly once and recorded sent."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from contacts import actions
from contacts.models import Contact
from messaging.models import Message
from messaging.outbound.send import send_message
from wecare.dynamo import now
from wecare.tests import workers

pytestmark = [pytest.mark.django_db, pytest.mark.worker]

MESSAGES = 12
THREADS = 8


@pytest.fixture
def slow_provider(fake_aws_clean):
    fake_aws_clean.set_latency(300, 0, operation="SendWhatsAppMessage")
    yield fake_aws_clean
    fake_aws_clean.reset()  # no latency left for the next test of this process


def test_a_threads_pool_worker_overlaps_single_sends_and_sends_each_once(operator, new_phone, slow_provider, tmp_path):
    contacts = []
    for _ in range(MESSAGES):
        contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
        contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=1))])  # in the window
        contacts.append(contact)
    log_path = tmp_path / "worker.log"
    with workers.publishing_for_real():
        ids = [
            send_message(
                {"contactId": c.contactId, "channel": "whatsapp", "text": "Your table is ready"},
                user=operator,
                source="test",
            ).messageId
            for c in contacts
        ]
    worker = workers.start_worker(
        log_path,
        queues="outbound-queue",
        concurrency=THREADS,
        pool="threads",
        settings_module="messaging.tests.outbound_worker_settings",
    )
    most_in_flight = 0
    try:
        deadline = time.monotonic() + 180  # a bound on waiting (worker start-up included), not a speed check
        while time.monotonic() < deadline:
            calls = slow_provider.calls("SendWhatsAppMessage")
            most_in_flight = max(most_in_flight, sum(1 for c in calls if c["status"] is None))
            if len(calls) >= MESSAGES and all(c["status"] is not None for c in calls):
                break
            time.sleep(0.05)
    finally:
        workers.stop_worker(worker, log_path)
    statuses = Counter(Message.get(i, consistent_read=True).status for i in ids)
    called = Counter(c["params"]["message"] for c in slow_provider.calls("SendWhatsAppMessage"))
    assert statuses == {"sent": MESSAGES}
    assert len(called) == MESSAGES and max(called.values()) == 1  # each message once
    assert most_in_flight >= 2  # calls overlapped: the pool did not send one at a time
