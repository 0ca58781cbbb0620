"""Verify an SNS HTTP(S) message before anything acts on it.

SNS signs a canonical string built from some of the envelope's fields (which ones depends on
the message type) with the key of a certificate it names by URL. SignatureVersion "1" is
SHA1withRSA, "2" SHA256withRSA. A message is accepted only if it is for one of the configured topics,
recent, names a trusted certificate (``messaging/inbound/sns_certs.py``) and its signature checks out
over exactly the fields SNS signs. Anything else raises ``Unverified`` with the reason.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

from messaging.inbound.sns_certs import CertificateRefused, signing_key
from wecare.dynamo import now

# The fields SNS signs, per message type, in the order they enter the string to sign.
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
# The settings naming the topics a notification may come from (messaging/inbound/routing.py).
TOPIC_SETTINGS = (
    "SNS_TOPIC_ARN",
    "SMS_INBOUND_TOPIC_ARN",
    "SMS_EVENTS_TOPIC_ARN",
    "SES_EVENTS_TOPIC_ARN",
    "SES_INBOUND_TOPIC_ARN",
)
OPTIONAL_FIELDS = frozenset({"Subject"})  # a Notification published without a subject has none
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
# SNS delivers within seconds and retries for about an hour at most; older messages are replays.
MAX_AGE = timedelta(hours=1)


class Unverified(Exception):
    """The message cannot be trusted; ``reason`` says why (for the log, never for acting on)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SnsMessage:
    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: datetime
    subject: str | None = None
    subscribe_url: str | None = None
    token: str | None = None


def string_to_sign(envelope: dict[str, Any]) -> bytes:
    """The canonical string SNS signs: "name\\nvalue\\n" for each signed field present."""
    fields = SIGNED_FIELDS[envelope["Type"]]
    return "".join(f"{name}\n{envelope[name]}\n" for name in fields if name in envelope).encode("utf-8")


def accepted_topics() -> frozenset[str]:
    """The configured topics (settings, read on each call so a test's override applies): the main
    one and those of SMS and SES, which default to it when unset."""
    return frozenset(arn for arn in (getattr(settings, name, "") for name in TOPIC_SETTINGS) if arn)


def verify(envelope: Any) -> SnsMessage:
    """Return the verified message, or raise Unverified."""
    _check_shape(envelope)
    if envelope["TopicArn"] not in accepted_topics():
        raise Unverified("TopicArn is not a configured topic")
    algorithm = HASHES.get(envelope["SignatureVersion"])
    if algorithm is None:
        raise Unverified("unknown SignatureVersion")
    timestamp = _fresh_timestamp(envelope["Timestamp"])
    try:
        key = signing_key(envelope["SigningCertURL"], timestamp)
    except CertificateRefused as refusal:
        raise Unverified(str(refusal)) from None
    try:
        key.verify(_signature_bytes(envelope["Signature"]), string_to_sign(envelope), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise Unverified("signature does not match") from None
    return SnsMessage(
        type=envelope["Type"],
        message_id=envelope["MessageId"],
        topic_arn=envelope["TopicArn"],
        message=envelope["Message"],
        timestamp=timestamp,
        subject=envelope.get("Subject"),
        subscribe_url=envelope.get("SubscribeURL"),
        token=envelope.get("Token"),
    )


def _check_shape(envelope: Any) -> None:
    if not isinstance(envelope, dict):
        raise Unverified("body is not a JSON object")
    kind = envelope.get("Type")
    if kind not in SIGNED_FIELDS:
        raise Unverified("unknown Type")
    required = [name for name in SIGNED_FIELDS[kind] if name not in OPTIONAL_FIELDS]
    for name in (*required, "SignatureVersion", "Signature", "SigningCertURL"):
        if name not in envelope:
            raise Unverified(f"{name} missing")
    for name in (*SIGNED_FIELDS[kind], "SignatureVersion", "Signature", "SigningCertURL"):
        if name in envelope and not isinstance(envelope[name], str):
            raise Unverified(f"{name} is not a string")


def _fresh_timestamp(value: str) -> datetime:
    try:
        timestamp = datetime.fromisoformat(value)
    except ValueError:
        raise Unverified("Timestamp is not ISO 8601") from None
    if timestamp.tzinfo is None:
        raise Unverified("Timestamp has no time zone")
    # Symmetric: a message "from the future" is as suspect as a stale one (clocks agree to seconds).
    if abs(now() - timestamp) > MAX_AGE:
        raise Unverified("Timestamp is more than an hour away from now")
    return timestamp


def _signature_bytes(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Unverified("Signature is not base64") from None
    # Only the canonical encoding: otherwise several strings (differing in the padding bits of
    # the last character) would name the same signature, and an altered one could pass.
    if base64.b64encode(raw).decode("ascii") != value:
        raise Unverified("Signature is not canonical base64")
    return raw
