"""Which task handles a verified SNS notification: the one webhook receives WhatsApp events
(AWS End User Messaging Social), two-way SMS and SMS delivery events (End User Messaging SMS),
SES event notifications (bounces, complaints, deliveries) and SES inbound mail, possibly on
different topics. Each kind is told apart by the shape of its JSON, never by the topic, because
an operator may point several of them at one topic (docs/design/inbound.md, "One webhook, five kinds").
The platform's own alerts come back on the topic they are published to, and are recognised too.
"""

from __future__ import annotations

import json
from enum import StrEnum

from celery import Task

from messaging.inbound import email_events, email_inbound, process, sms_events, sms_inbound
from wecare import alerts


class Kind(StrEnum):
    WHATSAPP = "whatsapp"  # EUM Social: {"whatsAppWebhookEntry": ..., "context": ...}
    SMS_INBOUND = "sms_inbound"  # two-way SMS: {"originationNumber", "inboundMessageId", ...}
    SMS_EVENT = "sms_event"  # SMS configuration-set event: {"eventType": "TEXT_...", "messageId", ...}
    EMAIL_EVENT = "email_event"  # SES: {"eventType"|"notificationType": Bounce|Complaint|Delivery|..., "mail"}
    EMAIL_INBOUND = "email_inbound"  # SES receiving: {"notificationType": "Received", "receipt", "mail"}


# The tier alert as it was published before wecare.alerts (still on the topic during a deploy).
TIER_ALERT_EVENT = "whatsapp.tier.threshold"

# The task of each kind; every one takes (message, sns_message_id), runs on inbound-queue
# (settings.CELERY_TASK_ROUTES), retries and then parks on inbound-dlq (wecare.dlq).
TASKS: dict[Kind, Task] = {
    Kind.WHATSAPP: process.process_inbound_event,
    Kind.SMS_INBOUND: sms_inbound.process_sms_inbound,
    Kind.SMS_EVENT: sms_events.process_sms_event,
    Kind.EMAIL_EVENT: email_events.process_email_event,
    Kind.EMAIL_INBOUND: email_inbound.process_email_inbound,
}


def _is_own_alert(body: dict) -> bool:
    """Whether the message is the platform's own alert (wecare/alerts.py) or one of its CloudWatch
    alarms, come back from the topic it was published to, which the webhook subscribes to as well.
    Acknowledged without a task: read as WhatsApp, the task would park it as malformed, and the
    park raises another alert, which comes back here... (docs/design/operations.md, "Alerts")."""
    if alerts.is_own(body):
        return True
    return (body.get("event") == TIER_ALERT_EVENT and "portfolio" in body) or is_alarm_notification(body)


ALARM_STATES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})


def is_alarm_notification(body: dict) -> bool:
    """Whether the message is a CloudWatch alarm's state change: the infrastructure template's
    alarms notify the same topic by default (docs/deployment.md). People get it from the topic's
    other subscriptions; read as a WhatsApp event it would only be parked as malformed."""
    return (
        isinstance(body.get("AlarmName"), str)
        and body.get("NewStateValue") in ALARM_STATES
        and isinstance(body.get("StateChangeTime"), str)
    )


def classify(message: str) -> Kind | None:
    """The kind of an SNS ``Message``, or None for our own alert or alarm come back from the topic
    (acknowledged without a task). Anything unrecognised is WHATSAPP: that task parks a body it
    cannot read on inbound-dlq with the reason, so a person sees it (nothing is dropped)."""
    try:
        body = json.loads(message)
    except ValueError:
        return Kind.WHATSAPP
    if not isinstance(body, dict):
        return Kind.WHATSAPP
    if _is_own_alert(body):
        return None
    if "whatsAppWebhookEntry" in body:
        return Kind.WHATSAPP
    if "inboundMessageId" in body and "originationNumber" in body:
        return Kind.SMS_INBOUND
    event_type = body.get("eventType")
    if isinstance(event_type, str) and event_type.startswith("TEXT_") and "messageId" in body:
        return Kind.SMS_EVENT
    if isinstance(body.get("mail"), dict):
        if body.get("notificationType") == "Received" and "receipt" in body:
            return Kind.EMAIL_INBOUND
        if "eventType" in body or "notificationType" in body:
            return Kind.EMAIL_EVENT
    return Kind.WHATSAPP
