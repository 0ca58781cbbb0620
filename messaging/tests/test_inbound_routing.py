"""Every kind of notification the SNS webhook accepts reaches its own task: real AWS payloads
(messaging/tests/fixtures/aws/, sources in its README) and a real EUM WhatsApp event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from messaging.inbound.routing import TASKS, Kind, classify

AWS = Path(__file__).parent / "fixtures" / "aws"


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("sms_inbound_two_way.json", Kind.SMS_INBOUND),
        ("sms_event_text_successful.json", Kind.SMS_EVENT),
        ("ses_event_bounce_permanent.json", Kind.EMAIL_EVENT),
        ("ses_event_complaint.json", Kind.EMAIL_EVENT),
        ("ses_event_delivery.json", Kind.EMAIL_EVENT),
        ("ses_notification_bounce_permanent.json", Kind.EMAIL_EVENT),
        ("ses_notification_complaint.json", Kind.EMAIL_EVENT),
        ("ses_notification_delivery.json", Kind.EMAIL_EVENT),
        ("ses_received_s3_action.json", Kind.EMAIL_INBOUND),
        ("ses_received_sns_action.json", Kind.EMAIL_INBOUND),
    ],
)
def test_each_aws_payload_goes_to_its_kind(fixture, kind):
    assert classify((AWS / fixture).read_text()) == kind


def test_a_whatsapp_event_and_anything_unreadable_go_to_the_whatsapp_task_which_parks_what_it_cannot_read():
    assert classify(json.dumps({"context": {}, "whatsAppWebhookEntry": "{}"})) == Kind.WHATSAPP
    for body in ("not json", "[1, 2]", "{}", json.dumps({"eventType": "Bounce"}), json.dumps({"mail": "x"})):
        assert classify(body) == Kind.WHATSAPP


def test_every_kind_has_a_task_on_the_inbound_queue(settings):
    assert set(TASKS) == set(Kind)
    for task in TASKS.values():
        assert settings.CELERY_TASK_ROUTES[task.name] == {"queue": "inbound-queue"}
