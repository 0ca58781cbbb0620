"""The one send path: pages, the API, the inbox, the automatic replies and AI approval call
``send_message`` (parse, gate, record "queued", enqueue); the ``messaging.send_outbound`` task runs
``process`` (claim, gate again, tier, rate token, sender, record). Bulk calls ``dispatch``.
The keywords handler calls ``send_consent_confirmation``, the only caller of the gate's
``CONSENT_CONFIRMATION`` purpose. The design: docs/design/send-path.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nh3
from celery import shared_task
from django.conf import settings
from pynamodb.exceptions import PutError
from ulid import ULID

from contacts.models import Contact
from messaging import conversations, email_threads, threads
from messaging.channels import RULES, Channel, default_sender
from messaging.models import Message
from messaging.outbound import gate, list_unsubscribe, media, ratelimit, records, sms_opt_outs, template_catalog, tier
from messaging.outbound.consent_rule import Purpose
from messaging.outbound.interactive import list_errors
from messaging.outbound.senders import Outbound, SendError, SendResult, TokenExpired, deliver, prepare
from messaging.outbound.senders.whatsapp import MAX_TEXT
from messaging.outbound.sms_segments import MAX_SMS_CHARS, count_segments
from wecare import audit
from wecare.dynamo import now
from wecare.errors import DomainError, FieldErrors
from wecare.metrics import emit

log = logging.getLogger("messaging.outbound")

MAX_SUBJECT = 998  # RFC 5322 line limit


class Refused(DomainError):
    """The safety gate said no: 422 with the reason code and a sentence the user can act on."""

    status = 422

    def __init__(self, verdict: gate.Verdict):
        super().__init__(verdict.message)
        self.code = verdict.reason.value if verdict.reason else "REFUSED"
        self.verdict = verdict

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self)}


class Superseded(Exception):
    """A consent confirmation asked for after another change of the customer's: nothing is sent."""


@dataclass
class SendRequest:
    contact_id: str
    channel: Channel
    sender: str | None
    text: str | None = None
    template: dict[str, Any] | None = None
    media: dict[str, Any] | None = None
    subject: str | None = None
    html: str | None = None
    interactive: dict[str, Any] | None = None  # WhatsApp list message (messaging/outbound/interactive.py)

    @property
    def is_template(self) -> bool:
        return self.template is not None

    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = {
            k: v
            for k, v in {
                "text": self.text,
                "template": self.template,
                "media": self.media,
                "subject": self.subject,
                "html": self.html,
                "interactive": self.interactive,
            }.items()
            if v
        }
        if self.channel == Channel.SMS and self.text:
            segments = count_segments(self.text)
            content["segments"] = {"encoding": segments.encoding, "count": segments.count}
        return content


def parse(data: dict[str, Any], *, media_to_upload: bool = False) -> SendRequest:
    """Check the request's shape per channel; FieldErrors names each problem. ``media_to_upload``:
    the media is a file the caller will store at its freshly issued key once the gate allows."""
    errors: dict[str, str] = {}
    try:
        channel = Channel(data.get("channel") or "")  # a missing channel is refused like a wrong one
    except ValueError:
        raise FieldErrors({"channel": "must be whatsapp, sms or email"}) from None
    request = SendRequest(
        contact_id=str(data.get("contactId") or ""),
        channel=channel,
        sender=data.get("sender") or default_sender(channel),
        text=(data.get("text") or None),
        template=data.get("template") or None,
        media=data.get("media") or None,
        subject=(data.get("subject") or None),
        html=(data.get("html") or None),
        interactive=data.get("interactive") or None,
    )
    if not request.contact_id:
        errors["contactId"] = "is required"
    if channel == Channel.WHATSAPP:
        chosen = [name for name in ("text", "template", "media", "interactive") if getattr(request, name)]
        if len(chosen) != 1:
            errors["text"] = "give exactly one of text, template, media or interactive"
        if request.interactive:
            errors.update(list_errors(request.interactive))
        if request.text and len(request.text) > MAX_TEXT:
            errors["text"] = f"is {len(request.text)} characters; WhatsApp allows {MAX_TEXT}"
        if request.template:
            if not request.template.get("name") or not request.template.get("language"):
                errors["template"] = "needs a name and a language"
            else:
                try:
                    template_catalog.validate(
                        request.template["name"],
                        request.template["language"],
                        request.template.get("parameters") or {},
                        file_to_upload=media_to_upload,
                    )
                except FieldErrors as exc:
                    errors.update(exc.errors)
        if request.media and not (request.media.get("s3Key") and request.media.get("contentType")):
            errors["media"] = "needs the uploaded file's s3Key and contentType"
        elif request.media and not media_to_upload and (refusal := media.reference_error(request.media)):
            errors["media"] = refusal
    else:
        for name in ("template", "media", "interactive"):
            if getattr(request, name):
                errors[name] = f"is for WhatsApp only, not {channel.value}"
        if not request.text:
            errors["text"] = "is required"
        elif channel == Channel.SMS and len(request.text) > MAX_SMS_CHARS:
            errors["text"] = f"is {len(request.text)} characters; SMS allows {MAX_SMS_CHARS}"
    if channel == Channel.EMAIL:
        if not request.subject:
            errors["subject"] = "is required for email"
        elif len(request.subject) > MAX_SUBJECT or "\n" in request.subject:
            errors["subject"] = f"must be one line of at most {MAX_SUBJECT} characters"
        if request.html:
            request.html = nh3.clean(request.html)  # what is stored, shown and sent is the sanitised HTML
    elif request.subject or request.html:
        errors["subject"] = "subject and html are for email only"
    if errors:
        raise FieldErrors(errors)
    return request


def load_contact(contact_id: str) -> Contact | None:
    """The contact, deleted or not (the gate decides what a deleted contact may get), or None."""
    try:
        return Contact.get(contact_id, consistent_read=True)
    except Contact.DoesNotExist:
        return None


def preflight(request: SendRequest, contact: Contact | None, *, purpose: Purpose = Purpose.MESSAGE) -> gate.Verdict:
    """The gate as the compose page and the API see it: nothing is claimed or written."""
    return gate.check(
        contact,
        request.channel,
        request.sender,
        is_template=request.is_template,
        at=now(),
        tier_allows=lambda phone: tier.would_exceed([phone]) == 0,
        phone_only=_phone_only(contact, request.template),
        purpose=purpose,
    )


def _phone_only(contact: Contact | None, template: dict[str, Any] | None) -> bool:
    """Looked up only for a contact with no number: the one case where the answer matters."""
    return bool(contact and not contact.phone and contact.whatsappUserId and template_catalog.phone_only(template))


def send_message(
    data: dict[str, Any],
    *,
    user: Any,
    source: str,
    upload_media: Callable[[], None] | None = None,
    thread_id: str | None = None,
) -> Message:
    """Gate, record and queue one message. ``upload_media`` stores the file ``data["media"]``
    names; it runs only once the gate allows, so a refused send leaves nothing in the bucket.
    ``thread_id``: the SMS or email conversation a reply belongs to (messaging/threads.py); without
    it an email starts a conversation of its own (and an SMS from a number joins that number's)."""
    request = parse(data, media_to_upload=upload_media is not None)
    if thread_id and threads.channel_of(thread_id) != request.channel.value:
        raise FieldErrors(
            {"threadId": f"is a {threads.channel_of(thread_id)} conversation, not {request.channel.value}"}
        )
    contact = load_contact(request.contact_id)
    verdict = preflight(request, contact)
    if verdict.reason is not None:  # refused
        audit.record(
            user,
            "message.refused",
            "contact",
            request.contact_id,
            channel=request.channel.value,
            reason=verdict.reason.value,
            source=source,
        )
        raise Refused(verdict)
    assert contact is not None
    if upload_media is not None:
        upload_media()
    message = records.create_queued(
        thread_id=thread_id or threads.thread_for_new_send(request.channel.value, request.sender or "", contact.phone),
        contact=contact,
        channel=request.channel.value,
        sender=request.sender or "",
        content=request.content(),
        template_name=(request.template or {}).get("name"),
        created_by=audit.actor_id(user),
        dry_run=settings.SEND_MODE != "LIVE",
    )
    audit.record(
        user,
        "message.send",
        "message",
        message.messageId,
        contactId=contact.contactId,
        channel=request.channel.value,
        source=source,
    )
    send_outbound.apply_async(args=[message.messageId], queue="outbound-queue")  # after the write it depends on
    return message


# What the audit log names as the source of a confirmation (the keywords handler's send).
CONFIRMATION_SOURCE = "consent_confirmation"


def send_consent_confirmation(
    contact: Contact, channel: Channel | str, sender: str | None, text: str, evidence: dict[str, Any]
) -> str:
    """Queue the one message allowed after a customer's own opt-out: the WhatsApp confirmation
    of their STOP or "Stop promotions" tap, as free text inside the window their message opened.
    Returns the message id.

    The gate judges it with ``Purpose.CONSENT_CONFIRMATION`` here and again at send time (the
    purpose is on the message record): it goes only while the contact's consent record names the
    customer's own keyword or button change, at most ``consent_rule.CONFIRMATION_WINDOW`` ago,
    from an allowlisted sender, inside the 24-hour window. Raises ``Refused`` otherwise (audited).
    ``evidence``: what the confirmation answers (the inbound message id, the keyword), audited.

    One confirmation per consent change: the message id is derived from the contact, the channel
    and the change, so asking twice (a redelivered inbound task, a second STOP) queues it once.
    """
    request = parse({"contactId": contact.contactId, "channel": str(channel), "sender": sender, "text": text})
    current = load_contact(request.contact_id)  # judged as stored, as the worker will
    verdict = preflight(request, current, purpose=Purpose.CONSENT_CONFIRMATION)
    if verdict.reason is not None:
        audit.record(
            None,
            "message.refused",
            "contact",
            request.contact_id,
            channel=request.channel.value,
            reason=verdict.reason.value,
            source=CONFIRMATION_SOURCE,
            purpose=Purpose.CONSENT_CONFIRMATION.value,
            evidence=evidence,
        )
        raise Refused(verdict)
    assert current is not None
    answered = evidence.get("messageId")
    changed_by = (getattr(current.consent(request.channel.value), "evidence", None) or {}).get("messageId")
    if answered and changed_by and changed_by != answered:
        # Another message of the customer's changed their consent since (a START after this
        # STOP): this text answers a change that is no longer theirs, and the id below is the
        # newer change's, whose own confirmation must not be taken for this one.
        log.info("consent confirmation superseded", extra={"answers": answered, "latest_change_by": changed_by})
        raise Superseded(f"the consent change {answered} answers was followed by {changed_by}")
    message_id = _confirmation_id(current, request.channel)
    try:
        records.create_queued(
            contact=current,
            channel=request.channel.value,
            sender=request.sender or "",
            content=request.content(),
            template_name=None,
            created_by=audit.actor_id(None),
            dry_run=settings.SEND_MODE != "LIVE",
            purpose=Purpose.CONSENT_CONFIRMATION.value,
            message_id=message_id,
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        log.info("consent confirmation already queued", extra={"message_id": message_id})
    else:
        audit.record(
            None,
            "message.send",
            "message",
            message_id,
            contactId=current.contactId,
            channel=request.channel.value,
            source=CONFIRMATION_SOURCE,
            reason=(verdict.allowance or gate.Allowance.CONSENT_CONFIRMATION).value,
            consentChange=verdict.grounds or None,
            evidence=evidence,
        )
    # Queued again for a repeat too: if the first enqueue was lost the message would wait for
    # ever, and a second task for a message already claimed does nothing.
    send_outbound.apply_async(args=[message_id], queue="outbound-queue")
    return message_id


def _confirmation_id(contact: Contact, channel: Channel) -> str:
    """A ULID stamped with the consent change's time whose random part is a hash of the contact,
    channel and change: the same change gives the same id."""
    record = contact.consent(channel.value)
    changed_at = getattr(record, "changedAt", None)
    if changed_at is None:
        return str(ULID())
    digest = hashlib.sha256(f"{contact.contactId}#{channel.value}#{changed_at.isoformat()}".encode()).digest()
    return str(ULID.from_bytes(int(changed_at.timestamp() * 1000).to_bytes(6, "big") + digest[:10]))


@dataclass
class Outcome:
    verdict: gate.Verdict
    result: SendResult | None = None
    error: SendError | None = None
    to: str = ""
    # The recipient's WhatsApp identities, number first: a sent message goes into the
    # conversation that exists under either (messaging.conversations), not only under ``to``.
    customer: tuple[str, ...] = ()


def dispatch(
    contact: Contact | None,
    message: Message,
    *,
    tier_allows: Callable[[str], bool],
    reserve: Callable[[str, str], float | None],
) -> Outcome:
    """Gate, rate tokens, sender: the decision and the provider call, nothing stored but one
    thing: an SMS AWS refuses for the opt-out list turns the contact's SMS consent off.

    Every send goes through here (the worker, via ``process``), so what the property tests prove
    about it holds for the platform: the provider is called if and only if the gate allows.
    """
    channel = Channel(message.channel)
    template = (message.content or {}).get("template")
    verdict = gate.check(
        contact,
        channel,
        message.sender,
        is_template=bool(message.templateName),
        at=now(),
        tier_allows=tier_allows,
        phone_only=_phone_only(contact, template),
        purpose=Purpose.of(message.purpose),  # a confirmation is judged as one at send time too
    )
    if not verdict.allowed:
        return Outcome(verdict)
    assert contact is not None
    content = message.content or {}
    try:
        # A reply in an email thread answers the customer's latest mail (In-Reply-To, References).
        headers = {**list_unsubscribe.headers_for(message), **email_threads.headers_for(message)}
    except ValueError as exc:  # no SITE_URL: a bulk email without its unsubscribe link must not go
        return Outcome(verdict, error=SendError(str(exc), permanent=True, details={"code": "NO_UNSUBSCRIBE_LINK"}))
    out = Outbound(
        message_id=message.messageId,
        channel=channel.value,
        sender=message.sender,
        to=RULES[channel].address(contact) or "",
        text=content.get("text"),
        template=content.get("template"),
        media=content.get("media"),
        subject=content.get("subject"),
        html=content.get("html"),
        interactive=content.get("interactive"),
        headers=headers,
    )
    customer = conversations.identities(contact) if channel is Channel.WHATSAPP else ()
    try:
        prepare(out)  # before the token: a media upload that takes long must not spend it
    except SendError as error:
        return Outcome(verdict, error=error, to=out.to, customer=customer)
    while True:
        # A token is good only inside its own slot: a thread that wakes late (busy CPU, many
        # threads) would otherwise send out of it, bunched with later slots, or in a later second
        # that did not count it. A stale token is let go (it only lowers throughput) and another taken.
        call_by = reserve(channel.value, message.sender)
        try:
            return Outcome(verdict, result=deliver(out, call_by=call_by), to=out.to, customer=customer)
        except TokenExpired:
            log.info("rate token went stale before use; taking another", extra={"channel": channel.value})
        except SendError as error:
            if channel is Channel.SMS:
                # The one thing stored here: AWS's opt-out list said no, so consent goes off and
                # the gate refuses the next send (single or bulk) before any provider call.
                sms_opt_outs.note_refusal(contact, message.messageId, error)
            return Outcome(verdict, error=error, to=out.to, customer=customer)


def _reserve(channel: str, sender: str) -> float:
    """Take a rate token and wait for its slot in its second (sends paced across the second,
    not bunched at its start); return the latest its call may start (``Reservation.call_by``).
    Over the limit: wait, never drop."""
    reservation = ratelimit.reserve_for_send(channel, sender)
    reservation.sleep()
    return reservation.call_by(0)


def process(message_id: str) -> str:
    """Worker side. Returns the message's final status (or 'skipped' when another worker has it)."""
    message = records.claim_queued(message_id)  # one request: the claim returns the message
    if message is None:
        if Message.count(message_id, consistent_read=True) == 0:  # only on this rare path: why not
            log.error("outbound message vanished", extra={"message_id": message_id})
            return "missing"
        return "skipped"
    channel = message.channel
    outcome = dispatch(load_contact(message.contactId), message, tier_allows=tier.claim, reserve=_reserve)
    if outcome.verdict.reason is not None:  # refused
        records.mark_refused(message, outcome.verdict.reason.value, outcome.verdict.message)
        emit("MessagesRefused", channel=channel)
        return "refused"
    if outcome.error is not None:
        error = outcome.error
        records.mark_failed(message, error)
        log.warning(
            "send failed",
            extra={
                "message_id": message_id,
                "channel": channel,
                "permanent": error.permanent,
                "code": error.details.get("code"),
            },
        )
        emit("MessagesFailed", channel=channel)
        return "failed"
    assert outcome.result is not None
    records.mark_sent(message, outcome.result, to=outcome.to, customer=outcome.customer)
    emit("MessagesSent", channel=channel)
    return "sent"


@shared_task(acks_late=True, name="messaging.send_outbound")  # outbound-queue (settings.CELERY_TASK_ROUTES)
def send_outbound(message_id: str) -> str:
    # Idempotent: the message is claimed queued -> sending before any provider call, so a
    # redelivered task (worker lost mid-way) finds it claimed and does nothing.
    return process(message_id)
