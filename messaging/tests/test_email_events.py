"""SES events end to end: an email sent LIVE through moto's SES, then AWS's own example events
(messaging/tests/fixtures/aws/, sources in its README) pointed at that mail and signed into
POST /webhooks/sns/, which queues messaging.process_email_event (run eagerly in tests).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from contacts import actions
from contacts.models import Contact
from contacts.queries import consent_history
from messaging.inbound.email_events import MalformedEvent, parse, process
from messaging.models import Message
from messaging.tests.sns_signing import notification, sns_test_certificates  # noqa: F401 - a fixture
from wecare import dlq

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
AWS = Path(__file__).parent / "fixtures" / "aws"
JSON = "application/json"


@pytest.fixture
def live(settings):
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01


@pytest.fixture
def customer(operator, new_email):
    data = {"name": "Asha", "email": new_email(), "optInEmail": True}
    return actions.create_contact(data, user=operator, source="test")


@pytest.fixture
def sent(live, client_for, operator, customer) -> Message:
    """An email to the customer, sent through moto's SES: the message SES events will name."""
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": customer.contactId, "channel": "email", "subject": "Your order", "text": "It ships today"},
        content_type=JSON,
    )
    assert response.status_code == 202, response.content
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent" and message.providerMessageId
    return message


def ses_event(fixture: str, *, to: str, ses_message_id: str, **change) -> str:
    """AWS's example, about our mail: its recipients, message id, sender and times replaced, a
    fresh feedback id (each bounce or complaint has its own), and ``change`` applied to the kind's object."""
    body = json.loads((AWS / fixture).read_text())
    mail = body["mail"]
    mail.update(
        messageId=ses_message_id,
        source=f"WECARE.DIGITAL <{settings.SES_SENDER_EMAIL}>",
        destination=[to],
        timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    )
    kind = (body.get("eventType") or body["notificationType"]).lower()
    detail = body.get(kind)
    if detail is not None:
        if "feedbackId" in detail:
            detail["feedbackId"] = f"0100019{uuid.uuid4().hex}-000000"
        for listed in ("bouncedRecipients", "complainedRecipients"):
            for recipient in detail.get(listed, []):
                recipient["emailAddress"] = to
        if "recipients" in detail:
            detail["recipients"] = [to]
        detail.update(change)
    return json.dumps(body)


def deliver(client, body: str, *, message_id: str | None = None):
    """SNS delivering ``body`` to the webhook, signed, on the SES events topic."""
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN, message_id=message_id)
    return client.post("/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")


def email_refused(client_for, operator, contact: Contact) -> bool:
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": contact.contactId, "channel": "email", "subject": "Again", "text": "Hello?"},
        content_type=JSON,
    )
    return response.status_code == 422


@pytest.mark.parametrize("fixture", ["ses_event_bounce_permanent.json", "ses_notification_bounce_permanent.json"])
def test_a_hard_bounce_turns_email_off_with_the_providers_evidence_and_the_gate_then_refuses(
    client, client_for, operator, customer, sent, fixture
):
    body = ses_event(fixture, to=customer.email, ses_message_id=sent.providerMessageId)

    assert deliver(client, body).status_code == 200

    contact = Contact.get(customer.contactId, consistent_read=True)
    assert contact.optInEmail is False
    [event, _given] = consent_history(customer.contactId, "email")
    bounce = json.loads(body)["bounce"]
    assert (event.optedIn, event.actor, event.source) == (False, "provider", "bounce")
    assert event.evidence == {
        "sesMessageId": sent.providerMessageId,
        "feedbackId": bounce["feedbackId"],
        "messageId": sent.messageId,
        "address": customer.email,
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "diagnosticCode": bounce["bouncedRecipients"][0]["diagnosticCode"],
        "status": "5.1.1",
    }
    message = Message.get(sent.messageId, consistent_read=True)
    assert message.status == "failed"
    assert message.errorDetails["bounceType"] == "Permanent" and message.errorDetails["source"] == "ses bounce"
    assert email_refused(client_for, operator, contact)


def test_the_contact_page_says_the_address_is_suppressed_and_why(client, client_for, viewer, customer, sent):
    bounce = ses_event("ses_event_bounce_permanent.json", to=customer.email, ses_message_id=sent.providerMessageId)
    deliver(client, bounce)

    page = client_for(viewer).get(f"/contacts/{customer.contactId}/").content.decode()

    assert 'id="email-suppressed"' in page and "SES reported a bounce" in page
    assert "smtp; 550 5.1.1 user unknown" in page  # the diagnostic, in the consent history


def test_a_bounce_for_a_contact_never_opted_in_still_suppresses_the_address_until_it_changes(
    client, client_for, operator, new_email
):
    # Nobody opted them in, so there is no consent to turn off; the address is dead all the same.
    contact = actions.create_contact({"email": new_email()}, user=operator, source="test")
    bounce = json.loads(
        ses_event("ses_event_bounce_permanent.json", to=contact.email, ses_message_id=f"{uuid.uuid4().hex}-000000")
    )
    bounce["mail"]["timestamp"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()  # a mail we hold no record of
    deliver(client, json.dumps(bounce))
    assert consent_history(contact.contactId, "email") == []  # no consent to turn off: no change, no event

    mail = {"contactId": contact.contactId, "channel": "email", "subject": "Hi", "text": "Still there?"}
    opted = actions.update_contact(contact.contactId, {"optInEmail": True}, user=operator, source="test")
    assert opted.optInEmail is True
    response = client_for(operator).post("/api/messages", mail, content_type=JSON)
    assert response.status_code == 422 and response.json()["code"] == "SUPPRESSED", response.content
    assert "SES hard bounce" in response.json()["detail"]
    page = client_for(operator).get(f"/contacts/{contact.contactId}/").content.decode()
    assert 'id="email-suppressed"' in page and "whatever the opt-in" in page

    # Another address is not the one SES reported: the suppression stays with the old one.
    moved = actions.update_contact(contact.contactId, {"email": new_email()}, user=operator, source="test")
    assert moved.email_suppression() is None
    response = client_for(operator).post("/api/messages", mail, content_type=JSON)
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("fixture", ["ses_event_complaint.json", "ses_notification_complaint.json"])
def test_a_complaint_turns_email_off_and_the_gate_then_refuses(client, client_for, operator, customer, sent, fixture):
    body = ses_event(fixture, to=customer.email, ses_message_id=sent.providerMessageId)

    assert deliver(client, body).status_code == 200

    contact = Contact.get(customer.contactId, consistent_read=True)
    assert contact.optInEmail is False
    [event, _given] = consent_history(customer.contactId, "email")
    assert (event.actor, event.source) == ("provider", "complaint")
    assert event.evidence["feedbackId"] == json.loads(body)["complaint"]["feedbackId"]
    assert event.evidence["complaintFeedbackType"] == "abuse"
    assert Message.get(sent.messageId, consistent_read=True).status == "complained"
    assert email_refused(client_for, operator, contact)


@pytest.mark.parametrize("bounce_type", ["Transient", "Undetermined"])
def test_a_soft_bounce_is_counted_and_changes_no_consent(client, client_for, operator, customer, sent, bounce_type):
    body = ses_event(
        "ses_event_bounce_permanent.json",
        to=customer.email,
        ses_message_id=sent.providerMessageId,
        bounceType=bounce_type,
        bounceSubType="MailboxFull" if bounce_type == "Transient" else "Undetermined",
    )

    assert deliver(client, body).status_code == 200

    contact = Contact.get(customer.contactId, consistent_read=True)
    assert contact.optInEmail is True and contact.softBounceCount == 1 and contact.lastSoftBounceAt
    assert len(consent_history(customer.contactId, "email")) == 1  # only the opt-in it was created with
    assert Message.get(sent.messageId, consistent_read=True).status == "failed"  # this mail did not arrive
    assert not email_refused(client_for, operator, contact)
    page = client_for(operator).get(f"/contacts/{customer.contactId}/").content.decode()
    assert 'id="email-soft-bounces"' in page and 'id="email-suppressed"' not in page


@pytest.mark.parametrize(
    "fixture", ["ses_event_bounce_permanent.json", "ses_event_complaint.json", "ses_event_delivery.json"]
)
def test_the_same_event_twice_changes_nothing(client, customer, sent, fixture):
    body = ses_event(fixture, to=customer.email, ses_message_id=sent.providerMessageId)
    first = notification(body, topic_arn=settings.SNS_TOPIC_ARN)
    deliver(client, body, message_id=first["MessageId"])
    history = consent_history(customer.contactId, "email")
    message = Message.get(sent.messageId, consistent_read=True)

    assert deliver(client, body, message_id=first["MessageId"]).status_code == 200  # SNS again
    assert deliver(client, body).status_code == 200  # the same event published twice
    assert process(body)["outcome"] == "duplicate"  # a DLQ replay

    assert [e.eventKey for e in consent_history(customer.contactId, "email")] == [e.eventKey for e in history]
    again = Message.get(sent.messageId, consistent_read=True)
    assert (again.status, len(again.statusHistory)) == (message.status, len(message.statusHistory))


def test_a_soft_bounce_twice_is_counted_once(client, customer, sent):
    body = ses_event(
        "ses_event_bounce_permanent.json",
        to=customer.email,
        ses_message_id=sent.providerMessageId,
        bounceType="Transient",
    )
    deliver(client, body)
    deliver(client, body)
    assert Contact.get(customer.contactId, consistent_read=True).softBounceCount == 1


def test_a_delivery_moves_the_message_to_delivered(client, customer, sent):
    body = ses_event("ses_event_delivery.json", to=customer.email, ses_message_id=sent.providerMessageId)

    assert deliver(client, body).status_code == 200

    message = Message.get(sent.messageId, consistent_read=True)
    assert message.status == "delivered"
    assert message.statusHistory[-1].status == "delivered"
    assert message.statusHistory[-1].details["smtpResponse"] == "250 2.6.0 Message received"
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True


def test_a_delivery_after_a_bounce_does_not_move_it_back(client, customer, sent):
    bounce = ses_event("ses_event_bounce_permanent.json", to=customer.email, ses_message_id=sent.providerMessageId)
    delivery = ses_event("ses_event_delivery.json", to=customer.email, ses_message_id=sent.providerMessageId)
    deliver(client, bounce)
    deliver(client, delivery)
    message = Message.get(sent.messageId, consistent_read=True)
    assert message.status == "failed"
    assert [c.status for c in message.statusHistory][-2:] == ["failed", "delivered"]  # kept as history


def test_a_bounce_for_an_address_no_contact_has_is_logged_and_changes_nothing(client, customer, sent, caplog):
    # Another system's mail through the same configuration set: not ours, not retried.
    stranger = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    event = json.loads(
        ses_event("ses_event_bounce_permanent.json", to=stranger, ses_message_id=f"not-ours-{uuid.uuid4().hex}")
    )
    event["mail"]["source"] = "billing@other-system.example.com"
    body = json.dumps(event)
    with caplog.at_level("INFO", logger="messaging.inbound.email_events"):
        assert deliver(client, body).status_code == 200
    assert any(getattr(r, "addresses", None) == [stranger] for r in caplog.records)
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is True


def test_a_recent_event_for_our_mail_not_recorded_yet_waits_on_the_dlq(client, customer):
    # Bulk records its sent mail in batches: an event can overtake the record, and is retried.
    body = ses_event("ses_event_delivery.json", to=customer.email, ses_message_id=f"unrecorded-{uuid.uuid4().hex}")
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN)

    response = client.post("/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain; charset=UTF-8")

    assert response.status_code == 200
    wanted = dlq.fingerprint(
        "messaging.process_email_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    [record] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    assert "NotRecordedYet" in record.payload


def test_a_hard_bounce_suppresses_at_once_even_before_the_mail_is_recorded(client, customer):
    body = ses_event(
        "ses_event_bounce_permanent.json", to=customer.email, ses_message_id=f"unrecorded-{uuid.uuid4().hex}"
    )
    assert deliver(client, body).status_code == 200  # the status part waits on the DLQ
    assert Contact.get(customer.contactId, consistent_read=True).optInEmail is False
    assert len(consent_history(customer.contactId, "email")) == 2  # one suppression despite the retries


def test_an_old_event_for_mail_we_have_no_record_of_is_skipped(customer):
    body = json.loads(ses_event("ses_event_delivery.json", to=customer.email, ses_message_id="long-gone"))
    body["mail"]["timestamp"] = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    assert process(json.dumps(body))["messageId"] is None


def test_a_body_that_is_not_an_ses_event_is_parked_at_once(client):
    body = json.dumps({"eventType": "Bounce", "mail": {"source": "x@example.com"}})
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN)
    assert client.post("/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain").status_code == 200
    wanted = dlq.fingerprint(
        "messaging.process_email_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    [record] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    assert "PermanentError" in record.payload


def test_odd_values_in_an_event_are_read_without_failing(customer):
    # SES may add fields; a time without a zone or a number where text is expected must not park the event.
    body = json.loads(ses_event("ses_event_bounce_permanent.json", to=customer.email, ses_message_id="odd-values"))
    body["mail"]["timestamp"] = "2017-08-05T00:40:02"
    body["bounce"]["bouncedRecipients"][0].update(diagnosticCode=550, status=5.1)
    body["bounce"]["newField"] = {"nested": [1, 2]}
    event = parse(json.dumps(body))
    assert event.sent_at is not None and event.sent_at.tzinfo is not None
    assert event.recipients[0].diagnostic_code == "550"
    assert process(json.dumps(body))["suppressed"] == [customer.contactId]


@pytest.mark.parametrize("fixture", sorted(p.name for p in AWS.glob("ses_[en]*.json")))
def test_every_aws_example_parses(fixture):
    event = parse((AWS / fixture).read_text())
    assert event.ses_message_id and event.recipients and event.key.startswith(f"ses#{event.kind}#")


def test_every_email_names_the_configuration_set_whose_events_come_back(client_for, operator, customer, settings):
    # DRY_RUN checks the call against SES's model and records it: what SES would have been asked.
    settings.SES_CONFIGURATION_SET = "wecare-digital"
    response = client_for(operator).post(
        "/api/messages",
        {"contactId": customer.contactId, "channel": "email", "subject": "Hi", "text": "Hello"},
        content_type=JSON,
    )
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent"
    assert message.providerRequest[0]["params"]["ConfigurationSetName"] == "wecare-digital"


@pytest.mark.parametrize(
    "body",
    [
        {"eventType": "", "notificationType": "", "mail": {"messageId": "m-1"}},
        {"eventType": "Bounce", "mail": {"messageId": ""}},
        {"eventType": "Bounce", "mail": {"messageId": "   "}},
    ],
)
def test_an_empty_event_type_or_mail_id_is_malformed_not_a_crash(body):
    # An empty kind made kind[0] raise IndexError, an empty id reached DynamoDB's query (a
    # ValidationException): both retried for nothing before parking instead of parking at once.
    with pytest.raises(MalformedEvent):
        parse(json.dumps(body))
