"""SES event notifications (the ``messaging.process_email_event`` task): a hard bounce or a
complaint turns the recipient's email opt-in off with the provider's evidence, a soft bounce is
counted on the contact, and delivery, bounce and complaint move the sent message's status. Each
event is applied once. Why and how: docs/design/email-feedback.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

from celery import shared_task
from django.conf import settings
from pynamodb.exceptions import TransactWriteError

from contacts import consent
from contacts.models import Contact, ContactUniqueKey
from contacts.queries import holder_of
from contacts.validation import InvalidValue, normalise_email
from messaging import counters
from messaging.inbound.record import IDEMPOTENCY_TTL
from messaging.models import Message, StatusChange
from messaging.whatsapp_table import WaIdempotency
from wecare.dlq import DeadLetterTask, PermanentError
from wecare.dynamo import now, transaction
from wecare.metrics import emit

log = logging.getLogger(__name__)

# What each kind does to the sent message: a status it may move to (ranked, never backwards),
# or, for the others (Send, Open, Click, DeliveryDelay, Subscription), only a line in its history.
STATUS_OF = {
    "Delivery": "delivered",
    "Complaint": "complained",
    "Bounce": "failed",
    "Reject": "failed",
    "Rendering Failure": "failed",
}
RANK = {"sent": 1, "delivered": 2, "complained": 3, "failed": 4}
BEFORE_SENT = ("queued", "sending")
HARD_BOUNCE = "Permanent"
# How long an event for our own mail whose record is missing is retried rather than skipped: the
# send records the message within a second or two of SES's answer (bulk within a record batch).
RECORDING_GRACE = timedelta(minutes=15)


class MalformedEvent(ValueError):
    """Not an SES event this code can read: retrying cannot help."""


class NotRecordedYet(Exception):
    """An event for a mail we sent a moment ago whose record is not written yet: retry."""


@dataclass(frozen=True)
class Recipient:
    address: str
    diagnostic_code: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class EmailEvent:
    kind: str  # SES's eventType / notificationType: Bounce, Complaint, Delivery, ...
    ses_message_id: str
    key: str  # the idempotency key: the feedback id, or the event's own content
    source: str  # the sender address of the mail (mail.source), lower case
    sent_at: datetime | None  # mail.timestamp
    recipients: tuple[Recipient, ...]
    details: dict[str, Any] = field(default_factory=dict)  # feedbackId, bounceType, ... (None left out)

    @property
    def hard_bounce(self) -> bool:
        return self.kind == "Bounce" and self.details.get("bounceType") == HARD_BOUNCE

    @property
    def soft_bounce(self) -> bool:
        return self.kind == "Bounce" and not self.hard_bounce

    @property
    def suppresses(self) -> bool:
        return self.hard_bounce or self.kind == "Complaint"


def _time(value: Any) -> datetime | None:
    """SES's ISO time ("…Z"); one without a zone is taken as UTC, anything else as unknown."""
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _recipients(kind: str, detail: dict[str, Any], mail: dict[str, Any]) -> tuple[Recipient, ...]:
    """Whom the event is about: the bounced or complaining recipients, a delivery's recipients,
    else the mail's destination."""
    listed = {"Bounce": "bouncedRecipients", "Complaint": "complainedRecipients"}.get(kind)
    if listed:
        return tuple(
            Recipient(str(r["emailAddress"]), _text(r.get("diagnosticCode")), _text(r.get("status")))
            for r in detail.get(listed) or []
            if isinstance(r, dict) and r.get("emailAddress")
        )
    addresses = detail.get("recipients") or mail.get("destination") or []
    return tuple(Recipient(str(a)) for a in addresses if isinstance(a, str))


def parse(body: str) -> EmailEvent:
    """An SES event as event publishing (``eventType``) or identity notifications
    (``notificationType``) send it; unknown fields are ignored (SES adds fields)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("mail"), dict):
        raise MalformedEvent("no mail object")
    kind, mail = data.get("eventType") or data.get("notificationType"), data["mail"]
    ses_id = mail.get("messageId")
    if not isinstance(kind, str) or not kind.strip() or not isinstance(ses_id, str) or not ses_id.strip():
        raise MalformedEvent("no event type or no mail.messageId")
    # The kind's own object: "bounce", "complaint", "delivery", "deliveryDelay", "renderingFailure"...
    name = kind[0].lower() + kind[1:].replace(" ", "")
    found = data.get(name)
    detail: dict[str, Any] = found if isinstance(found, dict) else {}
    details = {
        "feedbackId": detail.get("feedbackId"),
        "bounceType": detail.get("bounceType"),
        "bounceSubType": detail.get("bounceSubType"),
        "complaintFeedbackType": detail.get("complaintFeedbackType"),
        "complaintSubType": detail.get("complaintSubType"),
        "smtpResponse": detail.get("smtpResponse"),
        "reason": detail.get("reason") or detail.get("errorMessage"),
    }
    details = {k: str(v) for k, v in details.items() if v is not None}
    # A feedback id names one bounce or complaint; other kinds are the same event when their
    # content is the same (a redelivery), so that content is their key.
    own = details.get("feedbackId") or hashlib.sha256(json.dumps(detail, sort_keys=True).encode()).hexdigest()[:32]
    return EmailEvent(
        kind=kind,
        ses_message_id=mail["messageId"],
        key=f"ses#{kind}#{mail['messageId']}#{own}",
        source=parseaddr(str(mail.get("source") or ""))[1].lower(),
        sent_at=_time(mail.get("timestamp")),
        recipients=_recipients(kind, detail, mail),
        details=details,
    )


def _contact(address: str) -> Contact | None:
    try:
        return holder_of(ContactUniqueKey.for_email(normalise_email(address)), consistent_read=True)
    except InvalidValue:
        return None


def _message(event: EmailEvent) -> Message | None:
    """Our Messages item of the mail, through the id SES gave it (providerMessageId-index)."""
    return next(
        (m for m in Message.by_provider_id.query(event.ses_message_id) if m.channel == "email"),
        None,
    )


def _maybe_not_recorded_yet(event: EmailEvent) -> bool:
    """With no record found: our own recent mail, whose record may still be on its way (bulk
    writes its outcomes in batches, and an index is read eventually consistent), rather than
    another system's mail or ours long expired."""
    ours = event.source == settings.SES_SENDER_EMAIL.lower()
    return (
        ours and event.kind in STATUS_OF and event.sent_at is not None and abs(now() - event.sent_at) <= RECORDING_GRACE
    )


def _already_applied(event: EmailEvent) -> bool:
    try:
        WaIdempotency.get(WaIdempotency.key(event.key), consistent_read=True)
    except WaIdempotency.DoesNotExist:
        return False
    return True


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _suppress(event: EmailEvent, recipient: Recipient, contact: Contact, message: Message | None) -> bool:
    """The provider's opt-out with its evidence; False when the contact was not opted in (nothing
    to change, nothing written)."""
    evidence: dict[str, Any] = {
        "sesMessageId": event.ses_message_id,
        "feedbackId": event.details.get("feedbackId"),
        "messageId": message.messageId if message else None,
        "address": recipient.address,
    }
    if event.kind == "Bounce":
        evidence |= {
            "bounceType": event.details.get("bounceType"),
            "bounceSubType": event.details.get("bounceSubType"),
            "diagnosticCode": recipient.diagnostic_code,
            "status": recipient.status,
        }
    else:
        evidence["complaintFeedbackType"] = event.details.get("complaintFeedbackType")
    was = contact.opted_in("email")
    # Kept whatever the opt-in is: a contact never opted in may be opted in later, and the
    # address must stay refused (contacts.models.Contact.emailSuppression).
    kind = "bounce" if event.kind == "Bounce" else "complaint"
    contact.update(
        actions=[Contact.emailSuppression.set({"kind": kind, "at": now().isoformat(), **_present(evidence)})]
    )
    consent.change(
        contact,
        "email",
        False,
        source="bounce" if event.kind == "Bounce" else "complaint",
        actor=consent.PROVIDER,
        evidence=evidence,
    )
    return was


def _message_actions(event: EmailEvent, message: Message, *, move: bool) -> tuple[list, Any]:
    entry = {"source": f"ses {event.kind.lower()}", **event.details}
    status = STATUS_OF.get(event.kind)
    diagnostic = next((r.diagnostic_code for r in event.recipients if r.diagnostic_code), None)
    if diagnostic:
        entry["diagnosticCode"] = diagnostic
    history = StatusChange(status=status or event.kind.lower(), at=now(), details=entry)
    actions = [Message.statusHistory.set(Message.statusHistory.append([history]))]
    condition = Message.messageId.exists()
    if move and status:
        lower = tuple(s for s, r in RANK.items() if r < RANK[status])
        actions.append(Message.status.set(status))
        condition &= Message.status.is_in(*BEFORE_SENT, *lower)
        if status == "failed":
            actions.append(Message.errorDetails.set(entry))
    return actions, condition


def _apply(event: EmailEvent, message: Message | None, soft: list[Contact], *, move: bool = True) -> str:
    """One transaction: the idempotency item, the soft-bounce counts and the message's status.
    'applied', 'history-only' (the status may not move: late, or final already) or 'duplicate'."""
    at = now()
    tx = transaction()
    try:
        with tx:
            tx.save(
                WaIdempotency(
                    pk=WaIdempotency.key(event.key),
                    eventType=f"ses:{event.kind}",
                    processedAt=at.isoformat(),
                    ttl=IDEMPOTENCY_TTL,
                ),
                condition=WaIdempotency.pk.does_not_exist(),
                label="event",
            )
            for contact in soft:
                tx.update(
                    Contact(contactId=contact.contactId),
                    actions=[Contact.softBounceCount.add(1), Contact.lastSoftBounceAt.set(at)],
                    condition=Contact.contactId.exists() & Contact.deletedAt.does_not_exist(),
                    label=f"contact:{contact.contactId}",
                )
            if message is not None:
                actions, condition = _message_actions(event, message, move=move)
                tx.update(Message(messageId=message.messageId), actions=actions, condition=condition, label="message")
                status = STATUS_OF.get(event.kind)
                if move and status in counters.OUTBOUND:  # moves forward only: each status once
                    counters.add_after(tx, counters.outbound("email", status))
    except TransactWriteError as exc:
        failed = tx.failed_labels(exc)
        if "event" in failed:
            return "duplicate"
        if failed == ["message"] and move:  # late or final already: the history still says it happened
            return _apply(event, message, soft, move=False)
        if failed and all(label.startswith("contact:") for label in failed):  # deleted meanwhile
            gone = {label.split(":", 1)[1] for label in failed}
            return _apply(event, message, [c for c in soft if c.contactId not in gone], move=move)
        raise
    return "applied" if message is not None and move and event.kind in STATUS_OF else "history-only"


def process(body: str, *, sns_message_id: str | None = None) -> dict[str, Any]:
    """Apply one SES event; returns what happened. Raises MalformedEvent (permanent) for a body
    that is not an SES event, NotRecordedYet (after any suppression) while our own recent mail is
    not recorded yet."""
    event = parse(body)
    context = {"sns_message_id": sns_message_id, "ses_message_id": event.ses_message_id, "kind": event.kind}
    if _already_applied(event):
        log.info("ses event already applied", extra=context)
        return {"outcome": "duplicate"}
    message = _message(event)
    early = message is None and _maybe_not_recorded_yet(event)
    suppressed, soft, unknown = [], [], []
    for recipient in event.recipients:
        contact = _contact(recipient.address)
        if contact is None:
            unknown.append(recipient.address)
            continue
        # Consent first, in its own transaction: a repeat of it writes nothing, so a retry after a
        # failure below changes it no further, and the idempotency item is written only after it.
        if event.suppresses and _suppress(event, recipient, contact, message):
            suppressed.append(contact.contactId)
        elif event.soft_bounce:
            soft.append(contact)
    if unknown:
        log.info("ses event for an address no contact has", extra={**context, "addresses": unknown})
    if early:
        # Raised after the suppression, which must not wait for the record; before the
        # idempotency item, so the retry (or a replay) still moves the status, and counts once.
        raise NotRecordedYet(f"{event.kind} for SES message {event.ses_message_id}: no record of it yet")
    outcome = _apply(event, message, soft)
    summary = {
        "outcome": outcome,
        "messageId": message.messageId if message else None,
        "suppressed": suppressed,
        "softBounced": [c.contactId for c in soft] if outcome != "duplicate" else [],
        "unknown": unknown,
    }
    log.info("ses event processed", extra={**context, **summary})
    if outcome != "duplicate":
        # SES reviews (and may pause) an account whose bounce or complaint rate climbs: alarm first.
        emit("EmailEvents", kind=event.kind, bounceType=event.details.get("bounceType", "-"))
    if outcome == "applied" and STATUS_OF.get(event.kind) == "failed":  # the failure rate alarm's numerator
        emit("MessagesDeliveryFailed", channel="email")
    return summary


# Queue: inbound-queue (settings.CELERY_TASK_ROUTES). DeadLetterTask retries with backoff, then
# parks on inbound-dlq; a PermanentError parks at once. Idempotent (acks late) with JSON arguments.
@shared_task(base=DeadLetterTask, name="messaging.process_email_event")
def process_email_event(message: str, sns_message_id: str | None = None) -> dict:
    """``message``: the SNS Message string (SES's event JSON)."""
    try:
        return process(message, sns_message_id=sns_message_id)
    except MalformedEvent as exc:
        log.error(
            "unusable ses event", extra={"sns_message_id": sns_message_id, "error": str(exc), "body": message[:2000]}
        )
        raise PermanentError(str(exc)) from exc
