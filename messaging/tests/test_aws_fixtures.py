"""The AWS payloads in ``fixtures/aws/`` (copied from AWS's documentation, sources in its
README) parse and carry the fields issue 13's inbound kinds will be told apart and read by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

AWS = Path(__file__).parent / "fixtures" / "aws"

TWO_WAY_SMS = {
    "originationNumber",
    "destinationNumber",
    "messageKeyword",
    "messageBody",
    "inboundMessageId",
    "previousPublishedMessageId",
}
SMS_EVENT = {"eventType", "messageId", "messageStatus", "destinationPhoneNumber", "isFinal"}


def load(name: str) -> dict:
    return json.loads((AWS / name).read_text(encoding="utf-8"))


def ses_kind(payload: dict) -> str:
    # Event publishing says eventType; identity notifications and receiving say notificationType.
    return payload.get("eventType") or payload["notificationType"]


def test_every_fixture_is_named_in_the_readme():
    readme = (AWS / "README.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in AWS.glob("*.json"))
    assert len(files) == 11
    assert [name for name in files if f"`{name}`" not in readme] == []


def test_two_way_sms_has_the_fields_of_the_sns_payload():
    payload = load("sms_inbound_two_way.json")
    assert set(payload) == TWO_WAY_SMS
    assert payload["originationNumber"].startswith("+") and payload["destinationNumber"].startswith("+")


def test_sms_event_has_its_type_status_and_message_id():
    payload = load("sms_event_text_successful.json")
    assert set(payload) >= SMS_EVENT
    assert payload["eventType"].startswith("TEXT_")


@pytest.mark.parametrize("name", ["ses_event_bounce_permanent.json", "ses_notification_bounce_permanent.json"])
def test_permanent_bounce_names_the_bounced_addresses(name):
    payload = load(name)
    assert ses_kind(payload) == "Bounce"
    assert payload["bounce"]["bounceType"] == "Permanent"
    assert payload["bounce"]["feedbackId"]
    assert all("@" in r["emailAddress"] for r in payload["bounce"]["bouncedRecipients"])
    assert payload["mail"]["messageId"]


@pytest.mark.parametrize("name", ["ses_event_complaint.json", "ses_notification_complaint.json"])
def test_complaint_names_the_complaining_addresses(name):
    payload = load(name)
    assert ses_kind(payload) == "Complaint"
    assert payload["complaint"]["feedbackId"]
    assert all("@" in r["emailAddress"] for r in payload["complaint"]["complainedRecipients"])
    assert payload["mail"]["messageId"]


@pytest.mark.parametrize("name", ["ses_event_delivery.json", "ses_notification_delivery.json"])
def test_delivery_names_the_recipients(name):
    payload = load(name)
    assert ses_kind(payload) == "Delivery"
    assert payload["delivery"]["recipients"] and payload["mail"]["messageId"]


def test_received_mail_through_s3_points_at_the_object_and_has_the_threading_headers():
    payload = load("ses_received_s3_action.json")
    assert ses_kind(payload) == "Received"
    action = payload["receipt"]["action"]
    assert action["type"] == "S3" and action["bucketName"] and "objectKey" in action and action["topicArn"]
    assert "content" not in payload  # the mail itself is in S3
    assert payload["mail"]["commonHeaders"]["messageId"].startswith("<")
    assert {h["name"] for h in payload["mail"]["headers"]} >= {"From", "To", "Subject", "Message-ID"}


def test_received_mail_through_sns_carries_the_raw_mime():
    payload = load("ses_received_sns_action.json")
    assert ses_kind(payload) == "Received" and payload["receipt"]["action"]["type"] == "SNS"
    assert "\r\nMessage-ID: <" in payload["content"]
