"""An email to the staff address when a customer writes: who, on which number, what they said,
and a link to the conversation. At most one per conversation per STAFF_NOTIFICATION_MINUTES,
so a customer typing ten lines does not send ten emails.

This is mail to our own people, not a message to a contact: the opt-in gate does not apply, but
DRY_RUN does (the email sender is given the recording stand-in, messaging/outbound/senders), and the SES
rate limit is shared with every other email.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.template.loader import render_to_string

from messaging.autoreply import cooldown
from messaging.autoreply.trigger import InboundEvent
from messaging.conversation_index import key_for_whatsapp
from messaging.outbound import ratelimit
from messaging.outbound.send import load_contact
from messaging.outbound.senders import Outbound, SendError, TokenExpired, deliver
from wecare.metrics import emit

log = logging.getLogger("messaging.staff_notification")

PREVIEW_CHARS = 280


def conversation_url(conversation_pk: str) -> str:
    """The inbox's conversation page: /dm/<inbox key>/ (messaging/inbox/urls.py)."""
    return f"{settings.SITE_URL}/dm/{quote(key_for_whatsapp(conversation_pk), safe='~')}/"


def notify_staff(inbound: InboundEvent) -> str:
    recipient = settings.STAFF_NOTIFICATION_EMAIL
    if not recipient:
        return "off"
    hold = timedelta(minutes=settings.STAFF_NOTIFICATION_MINUTES)
    marker = cooldown.claim(
        "inbound",
        inbound.conversation_pk,
        trigger_id=inbound.wa_message_id,
        recipient=recipient,
        at=inbound.received_at,
        hold=hold,
    )
    if marker is None:
        return "cooldown"
    out = _email(inbound, recipient, marker.pk)
    try:
        result = _deliver(out)
    except SendError as error:
        # Nothing went out: give the claim back and fail, so the task's retries (then its DLQ)
        # try again rather than silently dropping the email.
        cooldown.release(marker)
        log.warning(
            "staff notification failed",
            extra={"conversation_pk": inbound.conversation_pk, "code": error.details.get("code")},
        )
        raise
    # What was (or in DRY_RUN would have been) sent, kept on the marker.
    record = {"providerMessageId": result.provider_message_id, "request": result.calls}
    outcome = "sent" if settings.SEND_MODE == "LIVE" else "dry_run"
    cooldown.settle(marker, outcome, json.dumps(record, ensure_ascii=False, default=str))
    emit("StaffNotificationsSent", mode=outcome)
    return outcome


def _email(inbound: InboundEvent, recipient: str, reference: str) -> Outbound:
    contact = load_contact(inbound.contact_id)
    text = (inbound.text or "").strip()
    context = {
        "customer_name": (contact.name if contact is not None else None) or "",
        "customer_phone": inbound.customer_phone,
        "business_number": inbound.phone_number_id,
        "message_type": inbound.message_type,
        "preview": text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS else ""),
        "received_at": inbound.received_at,
        "minutes": settings.STAFF_NOTIFICATION_MINUTES,
        "url": conversation_url(inbound.conversation_pk),
    }
    subject = " ".join(render_to_string("messaging/email/staff_inbound_subject.txt", context).split())
    return Outbound(
        message_id=reference,
        channel="email",
        sender=settings.SES_SENDER_EMAIL,
        to=recipient,
        subject=subject,
        text=render_to_string("messaging/email/staff_inbound.txt", context),
        html=render_to_string("messaging/email/staff_inbound.html", context),
    )


def _deliver(out: Outbound):
    while True:
        reservation = ratelimit.reserve_for_send("email", out.sender)
        reservation.sleep()
        try:
            return deliver(out, call_by=reservation.call_by(0))
        except TokenExpired:
            continue  # the token's slot passed while we waited: take another
