"""SNS envelopes for tests, signed the way SNS signs them, with a key and self-signed
certificate made here (and an attacker's, for forgeries).

Tests set ``SNS_CERT_LOADER`` to ``load_test_certificate``: it hands back the test certificate
for any URL it is asked about, so the URL rules in ``messaging/inbound/sns_certs.py`` (which run before
any loader) are the only thing that can refuse a bad SigningCertURL, and tests exercise exactly
those rules.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from messaging.inbound import sns_certs
from messaging.inbound.sns import SIGNED_FIELDS, string_to_sign

FIXTURES = Path(__file__).parent / "fixtures" / "eum"
TEST_LOADER = "messaging.tests.sns_signing.load_test_certificate"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-00000000000000000000000000007e57.pem"
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


class Signer:
    """An RSA key and a self-signed certificate for it, valid from a day ago for a year."""

    def __init__(self, common_name: str):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        today = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(today - timedelta(days=1))
            .not_valid_after(today + timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, envelope: dict[str, Any], version: str | None = None) -> dict[str, Any]:
        """Set SignatureVersion (if given) and Signature over the envelope's signed fields."""
        signed = dict(envelope)
        if version is not None:
            signed["SignatureVersion"] = version
        digest = HASHES[signed["SignatureVersion"]]()
        signature = self.key.sign(string_to_sign(signed), padding.PKCS1v15(), digest)
        signed["Signature"] = base64.b64encode(signature).decode("ascii")
        return signed


@cache
def sns_signer() -> Signer:
    """The key whose certificate the test loader hands out (made once per test process)."""
    return Signer("sns.amazonaws.com")


@cache
def attacker() -> Signer:
    """A key nobody trusts: what a forger would sign with."""
    return Signer("sns.amazonaws.com")


def load_test_certificate(url: str) -> bytes:
    return sns_signer().pem


def sns_timestamp(at: datetime | None = None) -> str:
    """SNS's format: UTC with milliseconds and a Z."""
    at = at or datetime.now(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def notification(
    message: str,
    *,
    topic_arn: str,
    subject: str | None = None,
    version: str = "2",
    message_id: str | None = None,
    timestamp: str | None = None,
    signer: Signer | None = None,
) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": timestamp or sns_timestamp(),
        "SignatureVersion": version,
        "SigningCertURL": CERT_URL,
        # Not signed by SNS, so never checked; present because real envelopes carry it.
        "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:0000",
    }
    if subject is not None:
        envelope["Subject"] = subject
    return (signer or sns_signer()).sign(envelope)


def confirmation(
    kind: str,
    *,
    topic_arn: str,
    token: str = "token-0123456789abcdef",
    version: str = "2",
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A SubscriptionConfirmation or UnsubscribeConfirmation."""
    assert kind in SIGNED_FIELDS and kind != "Notification"
    envelope = {
        "Type": kind,
        "MessageId": str(uuid.uuid4()),
        "Token": token,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.",
        "SubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
        "Timestamp": timestamp or sns_timestamp(),
        "SignatureVersion": version,
        "SigningCertURL": CERT_URL,
    }
    return sns_signer().sign(envelope)


def sample_names() -> list[str]:
    return sorted(path.name for path in FIXTURES.glob("*.json"))


def sample(name: str) -> str:
    """A sample EUM event, exactly as SNS carries it in Message."""
    return (FIXTURES / name).read_text()


def with_unique_wamids(event_json: str, suffix: str) -> str:
    """The same event with every WhatsApp message/status id made unique (for repeated posting)."""
    event = json.loads(event_json)
    entry = json.loads(event["whatsAppWebhookEntry"])
    for change in entry.get("changes", []):
        for item in (*change["value"].get("messages", []), *change["value"].get("statuses", [])):
            item["id"] = f"{item['id']}.{suffix}"
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    if "messageId" in event:
        event["messageId"] = f"{event['messageId']}-{suffix}"
    return json.dumps(event)


@pytest.fixture
def sns_test_certificates(settings):
    """Certificates come from the test key; the URL rules still apply. A module that posts signed
    messages imports this fixture and marks itself ``usefixtures("sns_test_certificates")``."""
    settings.SNS_CERT_LOADER = TEST_LOADER
    sns_certs.clear_cache()
    yield
    sns_certs.clear_cache()
