"""SMS delivery events end to end: an SMS sent LIVE through the local fake (over HTTP), then the SMS
configuration set's event for it, signed as SNS signs it, through POST /webhooks/sns/.

AWS publishes one full example of an SMS event, TEXT_SUCCESSFUL (fixtures/aws/
sms_event_text_successful.json, source in its README). It publishes none of TEXT_DELIVERED or of
the failure types (only their names and meanings, on configuration-sets-event-types.html), so
``event`` builds those from the TEXT_SUCCESSFUL example, changing eventType, messageStatus and
messageStatusDescription only.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contacts import actions
from messaging.inbound.sms_events import process
from messaging.inbound.statuses import RECORDING_GRACE
from messaging.models import Message
from messaging.tests.sns_signing import (
    notification,
    sns_test_certificates,  # noqa: F401 - a fixture, used through pytestmark
)
from wecare import dlq

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
URL = "/webhooks/sns/"
EXAMPLE = json.loads((Path(__file__).parent / "fixtures" / "aws" / "sms_event_text_successful.json").read_text())


def event(provider_message_id: str, event_type: str, status: str, description: str, *, at: float | None = None) -> str:
    """AWS's TEXT_SUCCESSFUL example about our message, as another event type (see the docstring)."""
    return json.dumps(
        {
            **EXAMPLE,
            "eventType": event_type,
            "messageId": provider_message_id,
            "messageStatus": status,
            "messageStatusDescription": description,
            "eventTimestamp": int((at or time.time()) * 1000),
        }
    )


DELIVERED = ("TEXT_DELIVERED", "DELIVERED", "Message has been delivered to the handset")
UNREACHABLE = ("TEXT_CARRIER_UNREACHABLE", "CARRIER_UNREACHABLE", "The carrier's network could not be reached")


@pytest.fixture
def sent_sms(settings, fake_aws_clean, client_for, operator, new_phone) -> Message:
    settings.SEND_MODE = "LIVE"
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": contact.contactId, "channel": "sms", "text": "Your order is ready"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent" and message.providerMessageId
    return message


def post(client, message: str, settings) -> dict:
    envelope = notification(message, topic_arn=settings.SNS_TOPIC_ARN)
    response = client.post(URL, data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    assert response.status_code == 200
    return envelope


def reread(message: Message) -> Message:
    return Message.get(message.messageId, consistent_read=True)


def test_a_delivery_event_marks_the_message_delivered_once(client, settings, sent_sms):
    delivered = event(sent_sms.providerMessageId, *DELIVERED)

    post(client, delivered, settings)
    post(client, delivered, settings)  # the same event twice changes nothing
    assert process(delivered)["outcome"] == "duplicate"

    stored = reread(sent_sms)
    assert stored.status == "delivered"
    assert [c.status for c in stored.statusHistory if c.status == "delivered"] == ["delivered"]
    assert stored.errorDetails is None


def test_the_published_text_successful_example_counts_as_delivered(client, settings, sent_sms):
    # AWS: TEXT_SUCCESSFUL and TEXT_DELIVERED "may be used interchangeably" depending on the country.
    post(client, json.dumps({**EXAMPLE, "messageId": sent_sms.providerMessageId}), settings)
    assert reread(sent_sms).status == "delivered"


def test_a_failure_event_marks_it_failed_with_the_carriers_reason(client, settings, sent_sms, capsys):
    capsys.readouterr()
    post(client, event(sent_sms.providerMessageId, *UNREACHABLE), settings)
    post(client, event(sent_sms.providerMessageId, *UNREACHABLE), settings)  # redelivered: counted once
    metrics = [line for line in capsys.readouterr().out.splitlines() if '"MessagesDeliveryFailed"' in line]
    assert [json.loads(line)["channel"] for line in metrics] == ["sms"]  # the failure rate alarm's numerator

    stored = reread(sent_sms)
    assert stored.status == "failed"
    assert stored.errorDetails == {
        "code": "TEXT_CARRIER_UNREACHABLE",
        "eventType": "TEXT_CARRIER_UNREACHABLE",
        "messageStatus": "CARRIER_UNREACHABLE",
        "messageStatusDescription": "The carrier's network could not be reached",
        "source": "sms event",
    }


def test_a_status_never_moves_backwards_or_from_one_final_state_to_another(client, settings, sent_sms):
    post(client, event(sent_sms.providerMessageId, *DELIVERED), settings)
    assert process(event(sent_sms.providerMessageId, *UNREACHABLE))["outcome"] == "history-only"
    assert process(event(sent_sms.providerMessageId, "TEXT_PENDING", "PENDING", "On its way"))["outcome"] == (
        "history-only"
    )

    stored = reread(sent_sms)
    assert stored.status == "delivered" and stored.errorDetails is None
    assert [c.status for c in stored.statusHistory][-3:] == ["delivered", "carrier_unreachable", "pending"]


def test_queued_and_pending_only_add_to_the_history(client, settings, sent_sms):
    post(client, event(sent_sms.providerMessageId, "TEXT_QUEUED", "QUEUED", "Queued"), settings)
    stored = reread(sent_sms)
    assert stored.status == "sent"
    assert stored.statusHistory[-1].status == "queued"
    assert stored.statusHistory[-1].details["messageStatusDescription"] == "Queued"


def test_an_event_for_a_message_we_never_sent_is_logged_and_answered_200(client, settings, fake_aws_clean, caplog):
    long_ago = (datetime.now(UTC) - RECORDING_GRACE - timedelta(hours=1)).timestamp()
    body = event(str(uuid.uuid4()), *DELIVERED, at=long_ago)
    with caplog.at_level("INFO", logger="messaging.inbound.sms_events"):
        post(client, body, settings)
    assert any(r.getMessage() == "sms event for a message we have no record of" for r in caplog.records)


def test_a_recent_event_for_a_message_not_recorded_yet_is_retried_then_kept_on_the_dlq(
    client, settings, fake_aws_clean
):
    body = event(str(uuid.uuid4()), *DELIVERED)
    envelope = post(client, body, settings)

    wanted = dlq.fingerprint(
        "messaging.process_sms_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    [parked] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    assert "NotRecordedYet" in parked.payload


def test_a_malformed_event_is_parked_at_once_with_its_reason(client, settings, fake_aws_clean):
    body = json.dumps({**EXAMPLE, "eventTimestamp": "yesterday"})
    envelope = post(client, body, settings)

    wanted = dlq.fingerprint(
        "messaging.process_sms_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    [parked] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    assert json.loads(parked.payload)["error"] == "PermanentError: eventTimestamp is not a number of milliseconds"


def test_an_sms_names_the_configuration_set_whose_destination_reports_its_events(
    settings, fake_aws_clean, client_for, operator, new_phone
):
    settings.SEND_MODE = "LIVE"
    settings.SMS_CONFIGURATION_SET = "base-wecare-digital-sms"
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    body = {"contactId": contact.contactId, "channel": "sms", "text": "Hi"}
    response = client_for(operator).post("/api/messages", body, content_type="application/json")
    assert response.status_code == 202
    [call] = fake_aws_clean.calls("SendTextMessage")
    assert call["params"]["ConfigurationSetName"] == "base-wecare-digital-sms"
