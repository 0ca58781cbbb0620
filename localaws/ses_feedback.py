"""Local stack only: the event SES publishes through a configuration set's SNS event destination
when a mail of ours bounces or draws a complaint, for `simulate_inbound --bounce / --complaint` and
the tests. Shaped like AWS's examples (messaging/tests/fixtures/aws/ses_event_bounce_permanent.json,
ses_event_complaint.json); moto sends no feedback of its own.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings

from contacts.queries import find_live_by_email
from messaging.models import Message


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def last_mail_to(address: str) -> Message | None:
    """Our newest sent email to ``address`` with SES's id, which the event then names; None when
    we never mailed them (the event then names a mail we have no record of, as one sent by
    another system would be)."""
    contact = find_live_by_email(address)
    if contact is None:
        return None
    mails = Message.by_contact.query(contact.contactId, scan_index_forward=False, limit=50)
    return next((m for m in mails if m.channel == "email" and m.direction == "outbound" and m.providerMessageId), None)


def event(kind: str, address: str) -> str:
    """The SNS Message of a Bounce (hard: Permanent/General, 5.1.1) or a Complaint (abuse) for
    ``address``."""
    sent = last_mail_to(address)
    # A mail we have no record of is dated a day back: recent mail of ours not recorded yet is
    # retried (it may still be being recorded), an old one only suppresses.
    sent_at = sent.timestamp if sent else datetime.now(UTC) - timedelta(days=1)
    ses_id = sent.providerMessageId if sent else f"{uuid.uuid4().hex}-000000"
    at = _iso(datetime.now(UTC))
    feedback_id = f"{uuid.uuid4().hex}-000000"
    sender = settings.SES_SENDER_EMAIL
    mail = {
        "timestamp": _iso(sent_at),
        "source": sender,
        "sourceArn": f"arn:aws:ses:{settings.AWS_REGION}:{settings.AWS_ACCOUNT_ID}:identity/{sender}",
        "sendingAccountId": settings.AWS_ACCOUNT_ID,
        "messageId": ses_id,
        "destination": [address],
        "headersTruncated": False,
        "commonHeaders": {"from": [sender], "to": [address], "messageId": ses_id},
    }
    if kind == "Bounce":
        detail = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": at,
            "feedbackId": feedback_id,
            "reportingMTA": "dsn; mta.example.com",
        }
        return json.dumps({"eventType": "Bounce", "bounce": detail, "mail": mail})
    detail = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": at,
        "feedbackId": feedback_id,
        "complaintFeedbackType": "abuse",
        "arrivalDate": at,
    }
    return json.dumps({"eventType": "Complaint", "complaint": detail, "mail": mail})
