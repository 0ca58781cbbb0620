"""One sender per channel, and the one place that decides DRY_RUN versus LIVE."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from messaging.outbound.senders.base import Outbound, Sender, SendError, SendResult
from messaging.outbound.senders.dry_run import DryRunClient
from messaging.outbound.senders.email import EmailSender
from messaging.outbound.senders.sms import SmsSender
from messaging.outbound.senders.whatsapp import MediaRefreshed, WhatsAppSender
from wecare import alerts
from wecare.aws import client

SENDERS: dict[str, Sender] = {"whatsapp": WhatsAppSender(), "sms": SmsSender(), "email": EmailSender()}


class TokenExpired(Exception):
    """The rate token's slot ended before the provider call could start: take another."""


def provider_client(service: str):
    """The client every provider call goes through: boto3 in LIVE, the recording stand-in in
    DRY_RUN. Senders and the inbox's read receipts both take theirs from here, so DRY_RUN is
    decided in this one place."""
    if settings.SEND_MODE == "LIVE":
        return client(service, retries=False)
    return DryRunClient(service)


@contextmanager
def _alert_on_refused_credentials(service: str) -> Iterator[None]:
    """A provider refusing our credentials or permissions fails every send until a person acts:
    raise the alert (deduplicated) and let the error take its usual way to the record."""
    try:
        yield
    except SendError as error:
        if error.permanent:
            alerts.provider_refused(service, str(error.details.get("code", "")), str(error.details.get("message", "")))
        raise


def prepare(out: Outbound) -> None:
    """What ``out`` needs before its rate token is taken (a WhatsApp media id, uploaded once per
    file and number): a slow upload, or the wait for another worker's, then spends no token."""
    sender = SENDERS[out.channel]
    with _alert_on_refused_credentials(sender.service):
        sender.prepare(out, provider_client(sender.service))


def deliver(out: Outbound, *, call_by: float | None = None) -> SendResult:
    """Send ``out`` through its channel's sender. In DRY_RUN no provider call happens: the
    sender talks to a recording stand-in, and the result lists what would have been sent."""
    sender = SENDERS[out.channel]
    provider = provider_client(sender.service)
    # Done already when ``prepare`` ran before the token (dispatch); here for callers that did not.
    with _alert_on_refused_credentials(sender.service):
        sender.prepare(out, provider)
    started = time.time()
    # Checked here, next to the call, so a thread that woke late never sends on an old token.
    if call_by is not None and started >= call_by:
        raise TokenExpired(f"token whose call had to start by {call_by:.3f} expired")
    try:
        with _alert_on_refused_credentials(sender.service):
            result = sender.send(out, provider)
    except MediaRefreshed as refreshed:
        # The refused call spent this token; the one retry goes on a new one, like a late token.
        raise TokenExpired("media id was stale and was uploaded again; send again on a new token") from refreshed
    result.started_at = started
    return result


__all__ = ["Outbound", "SendError", "SendResult", "TokenExpired", "deliver", "prepare", "provider_client"]
