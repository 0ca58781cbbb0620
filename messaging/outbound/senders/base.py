"""What every sender shares: the message it is given, the one error type, and retries.

A sender turns an ``Outbound`` into provider calls on a client it is handed. In LIVE mode that is
a boto3 client; in DRY_RUN it is a ``DryRunClient`` that records the calls and answers like the
provider, so DRY_RUN is decided once, at this boundary, and the record shows exactly what would
have been sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.conf import settings

log = logging.getLogger("messaging.senders")

T = TypeVar("T")

TRANSIENT_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalServerException",
    "InternalFailure",
    "InternalError",
}
MAX_RETRIES = 3


@dataclass
class Outbound:
    """One message, resolved: who it goes to, from which sender, with what content."""

    message_id: str
    channel: str
    sender: str
    to: str
    text: str | None = None
    template: dict[str, Any] | None = None  # {"name", "language", "parameters": {"body": [...], ...}}
    media: dict[str, Any] | None = None  # {"s3Key", "contentType", "filename", "caption"}
    interactive: dict[str, Any] | None = None  # a list message: messaging/outbound/interactive.py
    subject: str | None = None
    html: str | None = None
    # Email headers of the message's own (a bulk email's List-Unsubscribe): senders.email sends them.
    headers: dict[str, str] = field(default_factory=dict)
    # Filled in by the sender's ``prepare`` (WhatsApp: the file's media id, uploaded once per file
    # and number), before the rate token's second is checked: what it cost is listed in the result.
    media_id: str | None = None
    media_refreshed: bool = False  # WhatsApp refused a stale id and it was uploaded again (once)
    prepared_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SendResult:
    provider_message_id: str
    calls: list[dict[str, Any]] = field(default_factory=list)  # what went (or would go) to the provider
    started_at: float = 0.0  # epoch seconds when the first provider call began: the rate limit's clock


class Sender(Protocol):
    """One channel: the AWS service its client talks to, and how a message becomes its calls."""

    service: str

    def prepare(self, out: Outbound, client: Any) -> None:
        """Whatever the message needs before its own call, done before its rate token's second is
        checked (so the call still starts inside it); nothing for most channels."""
        return None

    def send(self, out: Outbound, client: Any) -> SendResult: ...


class SendError(Exception):
    """The provider refused or failed. ``permanent``: retrying the same request will not help."""

    def __init__(self, message: str, *, permanent: bool, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.details = details or {}


def _classify(exc: Exception) -> SendError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error.get("Code", "Unknown")
        transient = code in TRANSIENT_CODES or status >= 500 or status == 429
        details = {
            "code": code,
            "message": error.get("Message", ""),
            "httpStatus": status,
            "operation": exc.operation_name,
        }
        # Some services say why beside the code (pinpoint-sms-voice-v2: ConflictException with
        # Reason DESTINATION_PHONE_NUMBER_OPTED_OUT); botocore puts such members at the top.
        if isinstance(exc.response.get("Reason"), str):
            details["reason"] = exc.response["Reason"]
        return SendError(f"{code}: {error.get('Message', '')}", permanent=not transient, details=details)
    if isinstance(exc, (EndpointConnectionError, BotoCoreError, ConnectionError, TimeoutError)):
        return SendError(
            f"{type(exc).__name__}: {exc}", permanent=False, details={"code": type(exc).__name__, "message": str(exc)}
        )
    raise exc


def with_retries(call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run a provider call; on throttling, 5xx or a dropped connection, back off exponentially
    and try again, at most MAX_RETRIES times. A permanent error is raised at once."""
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:  # classified below; anything unknown re-raises
            error = _classify(exc)
            if error.permanent or attempt >= MAX_RETRIES:
                error.details["attempts"] = attempt + 1
                raise error from exc
            delay = settings.SEND_RETRY_BASE_SECONDS * (2**attempt)
            log.warning(
                "provider call failed, retrying",
                extra={"code": error.details.get("code"), "attempt": attempt + 1, "delay": delay},
            )
            sleep(delay)
            attempt += 1
