"""Local stack only: what SES receiving does with a mail to one of our addresses, for
`simulate_inbound --email` and the tests. moto has no SMTP endpoint, so this plays the receipt
rule's two actions: the S3 action (the raw mail stored under EMAIL_INBOUND_MAIL_PREFIX, named by
its SES message id) and the notification SES publishes to SNS, shaped like AWS's example
(messaging/tests/fixtures/aws/ses_received_s3_action.json).
"""

from __future__ import annotations

import json
import mimetypes
import random
import string
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from django.conf import settings

from wecare import aws

VERDICT_NAMES = ("spam", "virus", "spf", "dkim", "dmarc")


def new_ses_message_id() -> str:
    """Shaped like SES's ids of received mail (lower-case letters and digits)."""
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=28))


def mime(
    *,
    sender: str,
    to: str,
    subject: str = "Hello",
    text: str = "Hello, is my order ready?",
    html: str | None = None,
    attachments: list[Path] | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """A mail as a customer's mailer writes it."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id or make_msgid(domain=sender.rsplit("@", 1)[-1])
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    mail.set_content(text)
    if html:
        mail.add_alternative(html, subtype="html")
    for path in attachments or []:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return mail.as_bytes()


def receive(
    raw: bytes,
    *,
    recipient: str | None = None,
    verdicts: dict[str, str] | None = None,
    ses_message_id: str | None = None,
    action: str = "S3",
) -> str:
    """Store the mail as the S3 action does (for ``action="S3"``) and return the notification SES
    would publish (the SNS ``Message``); ``action="SNS"`` carries the mail in ``content`` instead."""
    ses_message_id = ses_message_id or new_ses_message_id()
    recipient = recipient or settings.EMAIL_RECEIVING_ADDRESSES[0]
    topic = settings.SES_INBOUND_TOPIC_ARN or settings.SNS_TOPIC_ARN
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if action == "S3":
        key = settings.EMAIL_INBOUND_MAIL_PREFIX + ses_message_id
        aws.client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=raw)
        receipt_action = {"type": "S3", "topicArn": topic, "bucketName": settings.MEDIA_BUCKET, "objectKey": key}
    else:
        receipt_action = {"type": "SNS", "topicArn": topic, "encoding": "UTF8"}
    given = dict.fromkeys(VERDICT_NAMES, "PASS") | (verdicts or {})
    headers, common = _headers(raw)
    body: dict = {
        "notificationType": "Received",
        "receipt": {
            "timestamp": now,
            "processingTimeMillis": 420,
            "recipients": [recipient],
            **{f"{name}Verdict": {"status": status} for name, status in given.items()},
            "action": receipt_action,
        },
        "mail": {
            "timestamp": now,
            "source": common.get("returnPath") or (common.get("from") or ["unknown@example.com"])[0],
            "messageId": ses_message_id,
            "destination": [recipient],
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": common,
        },
    }
    if action != "S3":
        body["content"] = raw.decode("utf-8", "replace")
    return json.dumps(body)


def _headers(raw: bytes) -> tuple[list[dict[str, str]], dict]:
    """SES's ``headers`` list and ``commonHeaders`` summary of the mail."""
    mail = message_from_bytes(raw, policy=policy.default)
    headers = [{"name": name, "value": str(value)} for name, value in mail.items()]
    common: dict = {}
    for name, key in (("From", "from"), ("To", "to")):
        if mail.get(name):
            common[key] = [str(mail[name])]
    for name, key in (("Subject", "subject"), ("Message-ID", "messageId"), ("Date", "date")):
        if mail.get(name):
            common[key] = str(mail[name])
    return headers, common
