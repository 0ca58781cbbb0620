"""WhatsApp messaging limit (tier): slots per portfolio, exact under concurrency, one alert at 80 %.

Every test has its own portfolio (moto keeps data for the whole session). Alerts are counted
from an SQS queue subscribed to the platform's SNS topic.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from messaging.models import TierSlot
from messaging.outbound import tier
from wecare import alerts_queries
from wecare.alerts import Kind
from wecare.aws import client
from wecare.dynamo import now as utcnow
from wecare.models import SystemConfig


def portfolio() -> str:
    return f"test-portfolio-{uuid.uuid4().hex[:10]}"


def phones(count: int) -> list[str]:
    base = uuid.uuid4().int % 10_000_000
    return [f"+1415{(base + i) % 10_000_000:07d}" for i in range(count)]


@pytest.fixture
def limit_5(settings):
    settings.WHATSAPP_TIER_LIMIT = 5
    SystemConfig(tier.TIER_LIMIT_KEY).delete()  # an override left by another test would win
    return 5


@pytest.fixture
def alerts():
    """Alerts published to the SNS topic for a portfolio, read from a subscribed SQS queue."""
    sqs, sns = client("sqs"), client("sns")
    url = sqs.create_queue(QueueName=f"tier-alerts-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(
        TopicArn=django_settings.SNS_TOPIC_ARN, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]
    received: list[dict] = []

    def for_portfolio(name: str) -> list[dict]:
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                break
            received.extend(json.loads(m["Body"]) for m in batch)
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )
        return [a for a in received if a.get("portfolio") == name]

    yield for_portfolio
    sns.unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=url)


def claim_together(recipients: list[str], where: str) -> list[bool]:
    """Claim each recipient in its own thread, all started at once."""
    barrier = threading.Barrier(len(recipients))
    results: list = [None] * len(recipients)
    errors: list = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = tier.claim(recipients[i], where)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(recipients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]
    return results


def test_eight_concurrent_claims_with_limit_five_admit_exactly_five_and_alert_once(limit_5, alerts):
    where, people = portfolio(), phones(8)
    results = claim_together(people, where)
    assert results.count(True) == 5
    assert tier.tier_status(where) == (5, 5)
    slots = list(TierSlot.query(where, consistent_read=True))
    assert sorted(int(s.slot) for s in slots) == [0, 1, 2, 3, 4]
    assert sorted(s.recipient for s in slots) == sorted(p for p, ok in zip(people, results, strict=True) if ok)
    # The refused stay refused; the admitted can be messaged again without a new slot.
    admitted = [p for p, ok in zip(people, results, strict=True) if ok]
    refused = [p for p, ok in zip(people, results, strict=True) if not ok]
    assert tier.claim(refused[0], where) is False
    assert tier.claim(admitted[0], where) is True
    assert tier.tier_status(where) == (5, 5)
    # 4 of 5 is 80 %: several claims saw it, one alert went out.
    sent = alerts(where)
    assert len(sent) == 1
    assert (sent[0]["event"], sent[0]["limit"]) == ("whatsapp.tier.threshold", 5)
    assert sent[0]["used"] >= 4
    # Raised through wecare.alerts: stored for the Alerts page, the message carrying its fields too.
    stored = alerts_queries.current(Kind.TIER_USE, where)
    assert stored is not None and (stored.alertId, stored.occurrences) == (sent[0]["alertId"], 1)
    assert (sent[0]["kind"], sent[0]["subject"]) == ("whatsapp.tier", where)


def test_the_same_recipient_claimed_concurrently_takes_one_slot(limit_5):
    where, (person,) = portfolio(), phones(1)
    assert claim_together([person] * 4, where) == [True] * 4
    assert tier.tier_status(where) == (1, 5)
    assert tier.holds_slot(person, where)


def test_an_expired_slot_is_reused(settings):
    settings.WHATSAPP_TIER_LIMIT = 1
    SystemConfig(tier.TIER_LIMIT_KEY).delete()
    where, (first, second) = portfolio(), phones(2)
    now = utcnow()
    assert tier.claim(first, where, now=now - timedelta(hours=25)) is True  # expired an hour ago
    assert tier.claim(second, where, now=now) is True  # moto keeps the item: reads filter expiresAt
    assert tier.tier_status(where, now=now) == (1, 1)
    assert tier.claim(first, where, now=now) is False  # reaching them again would take a new slot
    assert [s.recipient for s in TierSlot.query(where, consistent_read=True)] == [second]


def test_the_alert_goes_out_once_per_24_hours(settings, alerts):
    settings.WHATSAPP_TIER_LIMIT = 5
    SystemConfig(tier.TIER_LIMIT_KEY).delete()
    where, people = portfolio(), phones(10)
    now = utcnow()
    for person in people[:3]:
        tier.claim(person, where, now=now)
    assert alerts(where) == []  # 3 of 5 is below 80 %
    for person in people[3:5]:
        tier.claim(person, where, now=now)
    assert len(alerts(where)) == 1  # at 4 of 5, not again at 5 of 5
    tomorrow = now + timedelta(hours=25)  # every slot and the alert marker have expired
    for person in people[5:9]:
        assert tier.claim(person, where, now=tomorrow) is True
    assert len(alerts(where)) == 2


def test_would_exceed_counts_new_recipients_beyond_free_slots(limit_5):
    where, people = portfolio(), phones(7)
    for person in people[:3]:
        tier.claim(person, where)
    assert tier.would_exceed(people[:3] + people[3:5], where) == 0  # 2 new, 2 free
    assert tier.would_exceed([people[0], *people[3:7], people[3]], where) == 2  # 4 new, 2 free
    assert tier.would_exceed([], where) == 0


def test_a_system_config_override_sets_the_limit(settings):
    settings.WHATSAPP_TIER_LIMIT = 250
    where, people = portfolio(), phones(3)
    SystemConfig(tier.TIER_LIMIT_KEY, configValue=2, updatedBy="test", updatedAt=utcnow()).save()
    try:
        assert tier.tier_limit() == 2
        assert [tier.claim(p, where) for p in people] == [True, True, False]
        assert tier.tier_status(where) == (2, 2)
    finally:
        SystemConfig(tier.TIER_LIMIT_KEY).delete()
    assert tier.tier_limit() == 250
