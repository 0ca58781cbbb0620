"""One sender per channel, and the one place that decides DRY_RUN versus LIVE."""

from __future__ import annotations

from django.conf import settings

from messaging.senders.base import Outbound, SendError, SendResult
from messaging.senders.dry_run import DryRunClient
from messaging.senders.email import EmailSender
from messaging.senders.sms import SmsSender
from messaging.senders.whatsapp import WhatsAppSender
from wecare.aws import client

SENDERS = {"whatsapp": WhatsAppSender(), "sms": SmsSender(), "email": EmailSender()}


def deliver(out: Outbound) -> SendResult:
    """Send ``out`` through its channel's sender. In DRY_RUN no provider call happens: the
    sender talks to a recording stand-in, and the result lists what would have been sent."""
    sender = SENDERS[out.channel]
    if settings.SEND_MODE == "LIVE":
        provider = client(sender.service, retries=False)
    else:
        provider = DryRunClient(sender.service)
    return sender.send(out, provider)


__all__ = ["Outbound", "SendError", "SendResult", "deliver"]
