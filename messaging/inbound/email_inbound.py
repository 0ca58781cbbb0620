"""Inbound email through SES receiving (receipt rule: S3 action + SNS notification, or an SNS
action carrying the mail): each received mail becomes one message in an email thread, exactly
once, with its attachments in S3 and SES's verdicts recorded. Why and how:
docs/design/email.md ("Inbound email").
"""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import getaddresses
from typing import Any

from botocore.exceptions import ClientError
from celery import shared_task
from django.conf import settings
from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from contacts.models import Contact
from contacts.validation import InvalidValue, normalise_email
from messaging import conversation_index, counters, email_threads, threads
from messaging.inbound import email_attachments, email_mime
from messaging.inbound.contacts import find_or_create_by_email
from messaging.inbound.email_mime import ParsedMail
from messaging.models import MESSAGE_RETENTION_DAYS, Message, StatusChange
from messaging.threads import EmailMessageId, Thread
from wecare.aws import client
from wecare.dlq import DeadLetterTask, PermanentError
from wecare.dynamo import now, transaction

log = logging.getLogger(__name__)

SOURCE = "email-inbound"
RETENTION = timedelta(days=MESSAGE_RETENTION_DAYS)
# SES receiving accepts mail up to 40 MB with an S3 action; an object larger than that is not a
# mail SES wrote, and reading it would only cost a worker its memory.
MAX_MAIL_BYTES = 40 * 1024 * 1024
SES_ID = re.compile(r"[A-Za-z0-9._+=-]{1,200}")
VERDICTS = ("spam", "virus", "spf", "dkim", "dmarc")
MAX_PROBLEMS = 20
MAX_NAME_CHARS = 100


@dataclass
class Notification:
    """What SES says about one received mail (the SNS ``Message``)."""

    ses_message_id: str
    recipients: list[str]
    verdicts: dict[str, str]
    action: dict[str, Any]
    content: str | None
    common: dict[str, Any]
    received_at: datetime
    problems: list[str] = field(default_factory=list)


def read_notification(message: str) -> Notification:
    try:
        body = json.loads(message)
        mail, receipt = body["mail"], body["receipt"]
        ses_message_id = mail["messageId"]
    except (ValueError, TypeError, KeyError) as exc:
        raise PermanentError(f"not an SES receiving notification: {type(exc).__name__} {exc}") from None
    if not isinstance(ses_message_id, str) or not SES_ID.fullmatch(ses_message_id):
        raise PermanentError("the notification's mail.messageId is not an SES message id")
    recipients = receipt.get("recipients") or mail.get("destination") or []
    verdicts = {
        name: str((receipt.get(f"{name}Verdict") or {}).get("status") or "").upper() or "NONE" for name in VERDICTS
    }
    try:
        received_at = datetime.fromisoformat(str(mail.get("timestamp") or receipt.get("timestamp")))
    except ValueError:
        received_at = now()
    if received_at.tzinfo is None:
        received_at = now()
    content = body.get("content")
    return Notification(
        ses_message_id=ses_message_id,
        recipients=[str(r).strip().lower() for r in recipients if isinstance(r, str)][:50],
        verdicts=verdicts,
        action=receipt.get("action") or {},
        content=content if isinstance(content, str) else None,
        common=mail.get("commonHeaders") or {},
        received_at=received_at,
    )


def raw_mail(notification: Notification) -> bytes | None:
    """The mail as SES received it: from S3 when the rule stored it there (the S3 action), else
    from the notification (an SNS action carries it in ``content``). None, with the reason in
    ``problems``, when neither holds it; an S3 object that is missing parks the notification."""
    action = notification.action
    if action.get("type") == "S3" and action.get("bucketName"):
        bucket, key = action["bucketName"], object_key(notification)
        try:
            return _read_s3(bucket, key, notification)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                raise  # access denied, throttled…: retried, then parked
            if notification.content is None:
                raise PermanentError(f"the mail is not in s3://{bucket}/{key}") from None
            notification.problems.append(f"the mail is not in s3://{bucket}/{key}: read from the notification")
    if notification.content is not None:
        if str(action.get("encoding", "")).upper() == "BASE64":
            try:
                return base64.b64decode(notification.content, validate=False)
            except ValueError:
                notification.problems.append("the notification's content is not base64")
                return None
        return notification.content.encode("utf-8", "surrogateescape")
    notification.problems.append(f"the notification carries no mail (action {action.get('type') or 'none'})")
    return None


def object_key(notification: Notification) -> str:
    """SES names the object by the mail's message id under the rule's prefix; a notification that
    gives only the prefix (as AWS's own example does) gets the id added."""
    action = notification.action
    key = str(action.get("objectKey") or action.get("objectKeyPrefix") or "")
    return key + notification.ses_message_id if (not key or key.endswith("/")) else key


def _read_s3(bucket: str, key: str, notification: Notification) -> bytes | None:
    s3 = client("s3")
    size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    if size > MAX_MAIL_BYTES:
        notification.problems.append(f"the mail ({size} bytes) is over {MAX_MAIL_BYTES}: only SES's headers kept")
        return None
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def from_common_headers(notification: Notification) -> ParsedMail:
    """What SES's own summary of the headers says, for a mail we could not read."""
    common = notification.common
    mail = ParsedMail()
    senders = getaddresses([str(v) for v in common.get("from") or [] if isinstance(v, str)])
    if senders and "@" in senders[0][1]:
        mail.from_name, mail.from_address = senders[0][0] or None, senders[0][1].lower()
    mail.to = [a.lower() for _, a in getaddresses([str(v) for v in common.get("to") or []]) if "@" in a][:50]
    subject = common.get("subject")
    mail.subject = str(subject)[: email_mime.MAX_HEADER_CHARS] if subject else None
    ids = email_threads.parse_ids(str(common.get("messageId") or ""))
    mail.message_id = ids[0] if ids else None
    return mail


def our_address(notification: Notification, mail: ParsedMail) -> str:
    """Which of our addresses the mail reached: the first envelope recipient (SES accepted it for
    our rule, Bcc included) that is one of EMAIL_RECEIVING_ADDRESSES, else the first recipient."""
    ours = settings.EMAIL_RECEIVING_ADDRESSES
    for address in [*notification.recipients, *mail.to, *mail.cc]:
        if address in ours:
            return address
    return (notification.recipients or ours or [settings.SES_SENDER_EMAIL])[0]


# SES's verdicts that say the From address is not proven: such a mail may be anyone's.
UNPROVEN_SENDER = ("spf", "dmarc")


def thread_for(mail: ParsedMail, sender: str, verdicts: dict[str, str]) -> str:
    """The thread of the nearest id the mail names that we know, when it is this sender's
    conversation; else a new thread. A Message-ID is no secret (whoever got a copy of the mail
    has it): a third person answering someone else's mail starts their own conversation rather
    than writing into another customer's. The From header is no proof either: a mail that fails
    SPF or DMARC never joins a conversation, so an operator's reply there cannot answer a forger."""
    if any(verdicts.get(name) == "FAIL" for name in UNPROVEN_SENDER):
        return threads.new_email_thread_id()
    found = email_threads.find_thread(mail.thread_ids())
    if found is None:
        return threads.new_email_thread_id()
    try:
        customer = Thread.get(found, consistent_read=True).customer
    except Thread.DoesNotExist:
        return found  # its first message is being recorded: nobody else's yet
    if customer == sender:
        return found
    log.info("inbound email names another customer's thread", extra={"thread_id": found})
    return threads.new_email_thread_id()


def process(message: str) -> str:
    """'recorded' or 'duplicate'. Raises PermanentError (parked at once) for what no retry fixes."""
    notification = read_notification(message)
    received_key = f"received#{notification.ses_message_id}"
    if EmailMessageId.count(received_key, consistent_read=True):
        log.info("duplicate inbound email", extra={"ses_message_id": notification.ses_message_id})
        return "duplicate"
    raw = raw_mail(notification)
    mail = email_mime.parse(raw) if raw is not None else from_common_headers(notification)
    if not mail.from_address:
        mail.from_address = from_common_headers(notification).from_address
    if not mail.from_address:
        raise PermanentError("the mail names no sender address")
    try:
        sender = normalise_email(mail.from_address)
    except InvalidValue:
        raise PermanentError(f"the sender {mail.from_address[:200]!r} is not a valid email address") from None
    name = (mail.from_name or "").strip()[:MAX_NAME_CHARS]
    contact = find_or_create_by_email(sender, name, source=SOURCE)
    thread_id = thread_for(mail, sender, notification.verdicts)
    message_id = str(ULID())
    virus = notification.verdicts["virus"] == "FAIL"
    if virus:
        attachments = email_attachments.listed(mail.attachments)  # never stored: named, withheld
    else:
        attachments = email_attachments.store(notification.ses_message_id, mail.attachments)
    item = _message_item(notification, mail, contact, message_id, thread_id, sender, attachments)
    recorded = _record(notification, mail, item, attachments if not virus else [], received_key, contact)
    log.info(
        "inbound email recorded" if recorded else "inbound email was a duplicate",
        extra={"ses_message_id": notification.ses_message_id, "thread_id": thread_id, "message_id": message_id},
    )
    return "recorded" if recorded else "duplicate"


def _record(
    notification: Notification,
    mail: ParsedMail,
    item: Message,
    stored: list[dict[str, Any]],
    received_key: str,
    contact: Contact,
) -> bool:
    """One transaction: the receipt's idempotency item, the Message-ID's lookup item, the message,
    its MediaFiles and the thread. False when the mail was recorded already."""
    assert item.threadId is not None
    with_id = mail.message_id is not None
    for _attempt in range(2):
        tx = transaction()
        try:
            with tx:
                tx.save(
                    EmailMessageId(
                        key=received_key, threadId=item.threadId, messageId=item.messageId, expiresAt=RETENTION
                    ),
                    condition=EmailMessageId.key.does_not_exist(),
                    label="received",
                )
                counters.add_after(tx, counters.inbound("email"))
                if with_id and mail.message_id:
                    tx.save(
                        email_threads.id_item(mail.message_id, thread_id=item.threadId, message=item.messageId),
                        condition=EmailMessageId.key.does_not_exist(),
                        label="id",
                    )
                tx.save(item, condition=Message.messageId.does_not_exist(), label="message")
                for media_file in email_attachments.media_files(stored, item.messageId):
                    tx.save(media_file)
                tx.update(
                    Thread(threadId=item.threadId),
                    actions=threads.record_actions(
                        channel="email",
                        business=item.sender or "",
                        customer=(item.content or {})["from"],
                        contact_id=item.contactId,
                        preview=(item.content or {})["preview"],
                        direction="inbound",
                        subject=mail.subject,
                    ),
                    label="thread",
                )
                conversation_index.update_in(
                    tx,
                    conversation_index.key_for_thread(item.threadId),
                    channel="email",
                    business=item.sender or "",
                    customer=(item.content or {})["from"],
                    contact=contact,
                    preview=(item.content or {})["preview"],
                    direction="inbound",
                    at=item.timestamp.isoformat(),
                    subject=mail.subject,
                    search_text=mail.text,  # the whole body's words, not only the preview's
                )
        except TransactWriteError as exc:
            failed = tx.failed_labels(exc)
            if "received" in failed:
                return False
            if failed == ["id"]:
                # Another mail already has this Message-ID (resent, or reused): the first keeps it.
                with_id = False
                continue
            raise
        return True
    raise RuntimeError("unreachable: the second attempt writes no Message-ID item")


def _flags(notification: Notification) -> list[str]:
    verdicts = notification.verdicts
    flags = [name for name in ("virus", "spam") if verdicts[name] == "FAIL"]
    flags += [f"{name}-fail" for name in ("spf", "dkim", "dmarc") if verdicts[name] == "FAIL"]
    return flags


def _message_item(
    notification: Notification,
    mail: ParsedMail,
    contact: Contact,
    message_id: str,
    thread_id: str,
    sender: str,
    attachments: list[dict[str, Any]],
) -> Message:
    preview = " ".join((mail.text or mail.subject or "").split())[: threads.PREVIEW_CHARS] or "(no text)"
    content: dict[str, Any] = {
        "type": "email",
        "from": sender,
        "fromName": mail.from_name,
        "to": mail.to,
        "cc": mail.cc,
        "recipients": notification.recipients,
        "subject": mail.subject,
        "messageIdHeader": mail.message_id,
        "inReplyTo": mail.in_reply_to[0] if mail.in_reply_to else None,
        "references": email_threads.trimmed(mail.references),
        "date": mail.date,
        "text": mail.text,
        "html": mail.html,
        "attachments": attachments,
        "verdicts": notification.verdicts,
        "flags": _flags(notification),
        "problems": [*notification.problems, *mail.problems][:MAX_PROBLEMS],
        "sesMessageId": notification.ses_message_id,
        "preview": preview,
    }
    return Message(
        messageId=message_id,
        contactId=contact.contactId,
        channel="email",
        direction="inbound",
        content={k: v for k, v in content.items() if v not in (None, [], "")},
        timestamp=notification.received_at,
        status="received",
        statusHistory=[StatusChange(status="received", at=now())],
        sender=our_address(notification, mail),  # which of our addresses it reached
        threadId=thread_id,
        expiresAt=RETENTION,
    )


# Queue: inbound-queue (settings.CELERY_TASK_ROUTES); retried, then parked on inbound-dlq.
@shared_task(base=DeadLetterTask, name="messaging.process_email_inbound")
def process_email_inbound(message: str, sns_message_id: str | None = None) -> dict:
    return {"status": process(message), "snsMessageId": sns_message_id}
