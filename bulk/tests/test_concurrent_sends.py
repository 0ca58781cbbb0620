"""Bulk chunks with many provider calls in flight (BULK_SEND_CONCURRENCY threads per chunk), against
a provider that takes as long as a real one (the local fake's injected latency):

* two chunks of the same number, sent at once, never put more than the number's limit in any
  clock second at the sender boundary (at most limit + 1 in any sliding second), and the account
  bucket holds every send;
* each recipient is called exactly once, and the job's counts match the provider's call log.

The crash test (test_crash.py) kills a worker while its calls are in flight."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.conf import settings as django_settings

from bulk import actions, queries, sending
from bulk.audience import AudienceSpec
from bulk.queries import all_recipients
from messaging.models import Message, RateLimitTracker
from messaging.outbound import ratelimit
from wecare.aws import client

pytestmark = pytest.mark.django_db

LIMIT = 20  # per number, per second: two chunks of 40 take at least four seconds
RECIPIENTS = 40


@pytest.fixture
def slow_whatsapp(live_fake, settings, monkeypatch):
    """A 200 ms ± 50 ms provider, a low per-number limit, and an account bucket of this test's own."""
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER = LIMIT
    settings.BULK_SEND_CONCURRENCY = 8  # 8 calls of 200 ms: up to 40/s per chunk, twice the limit
    account = f"test-account-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(ratelimit, "WHATSAPP_ACCOUNT_BUCKET", account)
    live_fake.set_latency(200, 50, operation="SendWhatsAppMessage")
    yield live_fake, account
    live_fake.reset()  # no latency left for the next test of this process


def start_whatsapp_job(make_contacts, operator, monkeypatch, queued: list) -> str:
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: queued.append(args))
    contacts = make_contacts(RECIPIENTS, in_window=True)  # inside their 24 h window: free text
    job = actions.start_job(
        AudienceSpec(contact_ids=[c.contactId for c in contacts]),
        {"text": "Your order has shipped"},
        channel="whatsapp",
        sender=None,
        user=operator,
        confirm=True,
        previewed_count=RECIPIENTS,
    )
    return job.jobId


def call_starts(job_id: str) -> list[float]:
    """When each sent recipient's provider call began (the rate limit's clock)."""
    ids = [r.messageId for r in all_recipients(job_id) if r.status == "sent"]
    starts = []
    for message in Message.batch_get(ids):
        sent = next(c for c in message.statusHistory if c.status == "sent")
        starts.append(float(sent.details["providerCallStartedAt"]))
    return starts


def busiest_sliding_second(times: list[float]) -> int:
    times, best, left = sorted(times), 0, 0
    for right, t in enumerate(times):
        while t - times[left] >= 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def account_counts(bucket: str) -> dict[int, int]:
    answer = client("dynamodb").query(
        TableName=RateLimitTracker.Meta.table_name,
        KeyConditionExpression="channel = :b",
        ExpressionAttributeValues={":b": {"S": bucket}},
        ConsistentRead=True,
    )
    return {int(i["windowStart"]["N"]): int(i["messageCount"]["N"]) for i in answer["Items"]}


def test_two_chunks_of_one_number_in_flight_at_once_keep_its_limit_and_send_each_once(
    make_contacts, operator, monkeypatch, slow_whatsapp
):
    fake, account = slow_whatsapp
    queued: list = []
    jobs = [start_whatsapp_job(make_contacts, operator, monkeypatch, queued) for _ in range(2)]
    assert len(queued) == 2  # one chunk each
    errors: list[BaseException] = []

    def run(args):
        try:
            sending.run_chunk(*args)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(args,)) for args in queued]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors and not any(t.is_alive() for t in threads)

    number = django_settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    starts = [t for job_id in jobs for t in call_starts(job_id)]
    assert len(starts) == 2 * RECIPIENTS
    per_second = Counter(int(t) for t in starts)
    assert max(per_second.values()) <= LIMIT  # never above the number's limit in a clock second
    assert busiest_sliding_second(starts) <= LIMIT + 1  # nor, by more than one, in any second

    calls = [c for c in fake.calls("SendWhatsAppMessage") if c["params"]["originationPhoneNumberId"] == number]
    called = Counter(c["params"]["message"] for c in calls)  # the Meta message names its recipient
    assert len(calls) == 2 * RECIPIENTS and max(called.values()) == 1  # each recipient once
    for job_id in jobs:
        job = queries.get_job(job_id)
        assert (job.status, job.sentCount, job.unknownCount) == ("completed", RECIPIENTS, 0)

    # The account bucket was charged with every send, in the second each was reserved for.
    charged = account_counts(account)
    assert sum(charged.values()) >= 2 * RECIPIENTS
    for second, count in Counter(int(t) for t in starts).items():
        assert charged.get(second, 0) >= count
