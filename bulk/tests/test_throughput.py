"""Bulk throughput on the dashboard: messages per minute of each recent job, start to finish (or
to now while it runs), from the job's own counts; jobs started long ago or never are left out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ulid import ULID

from bulk import throughput
from bulk.models import BulkJob
from wecare.dynamo import now

pytestmark = pytest.mark.django_db


# The dashboard is read as of a moment far from now: every other test's jobs start about now, and
# the section shows only the last few jobs started in the 14 days before its moment.
AT = now() + timedelta(days=100)


def job(name: str, *, started_minutes_ago: float | None, minutes: float | None, sent: int, status: str) -> BulkJob:
    at = AT
    started = at - timedelta(minutes=started_minutes_ago) if started_minutes_ago is not None else None
    item = BulkJob(
        jobId=str(ULID()),
        createdBy="test",
        name=name,
        channel="sms",
        messageSpec={"text": "Hi"},
        status=status,
        sentCount=sent,
        createdAt=at,
        updatedAt=at,
        startedAt=started,
        completedAt=started + timedelta(minutes=minutes) if started and minutes is not None else None,
    )
    item.save()
    return item


def test_each_recent_job_shows_its_messages_per_minute():
    finished = job("Diwali offer", started_minutes_ago=30, minutes=4, sent=600, status="completed")
    running = job("Restock notice", started_minutes_ago=2, minutes=None, sent=100, status="running")
    job("Never started", started_minutes_ago=None, minutes=None, sent=0, status="pending")
    job("Last year", started_minutes_ago=60 * 24 * 400, minutes=1, sent=10, status="completed")

    rows = {label.split(" (")[0]: values for label, values in throughput.section(AT).rows}

    assert rows["Diwali offer"] == [600, 4.0, 150.0]
    sent, minutes, per_minute = rows["Restock notice"]
    assert sent == 100 and 2 <= minutes < 3 and 33 < per_minute <= 50  # to now: it is still running
    assert "Never started" not in rows and "Last year" not in rows
    assert finished.startedAt and running.startedAt
