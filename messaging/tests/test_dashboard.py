"""The dashboard page: operators and admins see it, a viewer does not; its figures come from the
hourly counters (per hour, summed per day, failure rate), the dead-letter queues' live depth, the
tier, and the sections bulk and the AI register (docs/design/operations.md, "Dashboard")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from messaging import counters
from messaging.dashboard import figures
from messaging.dashboard.sections import Section
from wecare import aws, dlq

pytestmark = pytest.mark.django_db
URL = reverse("dashboard:home")


def section(sections: list[Section], key: str) -> Section:
    return next(s for s in sections if s.key == key)


def test_operators_see_it_from_the_sidebar_and_a_viewer_does_not(client_for, viewer, operator):
    assert client_for(viewer).get(URL).status_code == 403
    # An admin too: the access sweep (wecare/tests/test_access_sweep.py) opens it as each role.
    for person in (operator,):
        page = client_for(person).get(URL).content.decode()
        for title in (
            "Messages per hour, last 48 hours",
            "Messages per day, last 14 days",
            "Inbound messages per day, by channel",
            "Failure rate per day, by channel",
            "Dead-letter queues",
            "WhatsApp tier use",
            "Bulk throughput",  # registered by bulk
            "AI suggestions per day",  # registered by ai
        ):
            assert f">{title}</h2>" in page
        # Chart.js from the static files, and one canvas over each table it draws.
        assert "vendor/chart.js/chart.umd.min.js" in page
        assert page.count("<canvas") == page.count('<figure class="dash-figure" data-chart=')
        assert re.search(r">Operations<.*>Dashboard<", page, re.S)  # in the sidebar


def test_hours_are_summed_into_days_and_failures_make_a_rate(settings):
    at = datetime(2025, 3, 9, 15, 30, tzinfo=UTC)  # far from any other test's counts
    day_before = at - timedelta(days=1)
    counters.add({"whatsapp_attempted": 4, "whatsapp_sent": 3, "whatsapp_failed": 1}, at=at.replace(hour=1))
    counters.add({"whatsapp_attempted": 6, "whatsapp_sent": 6, "whatsapp_read": 5}, at=at.replace(hour=14))
    counters.add({"sms_attempted": 2, "sms_sent": 2, "sms_inbound": 7, "bulk_sent": 2}, at=at.replace(hour=15))
    counters.add({"email_inbound": 1}, at=day_before)

    sections = figures.sections(None, at=at)
    per_day = dict(section(sections, "per-day").rows)
    # Sent, delivered, read, failed, inbound, failure rate: every channel together.
    assert per_day["Sun 09 Mar"] == [11, 0, 5, 1, 7, 8.3]
    assert per_day["Sat 08 Mar"] == [0, 0, 0, 0, 1, None]
    per_hour = dict(section(sections, "per-hour").rows)
    assert per_hour["09 Mar 14:00"] == [6, 0, 5, 0, 0]
    assert per_hour["09 Mar 15:00"] == [2, 0, 0, 0, 7]
    assert list(per_hour)[-1] == "09 Mar 15:00" and len(per_hour) == figures.HOURS
    rates = dict(section(sections, "failure-rate").rows)
    assert rates["Sun 09 Mar"] == [10.0, 0.0, None]  # WhatsApp 1 of 10, SMS 0 of 2, no email

    only_sms = dict(section(figures.sections("sms", at=at), "per-day").rows)
    assert only_sms["Sun 09 Mar"] == [2, 0, 0, 0, 7, 0.0]


def test_the_channel_filter_and_a_value_it_does_not_know(client_for, operator):
    client = client_for(operator)
    assert "Outbound messages by status and inbound messages, SMS" in client.get(URL, {"channel": "sms"}).text
    unknown = client.get(URL, {"channel": "<b>fax</b>"})
    assert unknown.status_code == 200 and "every channel" in unknown.text


def test_dead_letter_queue_depth_is_read_live_from_sqs(settings):
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{settings.SQS_QUEUE_PREFIX}ai-dlq")["QueueUrl"]
    before = dict(figures.dlq_depth().rows)["ai-dlq"][0]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    try:
        assert dict(figures.dlq_depth().rows)["ai-dlq"] == [before + 1]
    finally:
        sqs.purge_queue(QueueUrl=url)
    assert dlq.depth("ai-dlq") == 0
