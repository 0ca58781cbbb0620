"""What every PynamoDB model here shares: table names, endpoint, billing, TTL and paging.

Models declare ``Meta = meta("Contacts")`` and are ``@register``ed. The endpoint and
region come from settings, so the same models talk to moto on loopback locally and in tests, and
to DynamoDB in production. ``ALL_MODELS`` lists the one model per table that bootstrap creates.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from pynamodb.attributes import TTLAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

ALL_MODELS: list[type[Model]] = []

DAY = 24 * 60 * 60


def table_name(name: str) -> str:
    return f"{settings.DYNAMODB_TABLE_PREFIX}{name}"




def meta(name: str) -> type:
    """Build a Meta class for the table ``name`` (prefixed) on the configured endpoint."""
    return type(
        "Meta",
        (),
        {
            "table_name": table_name(name),
            "host": settings.AWS_ENDPOINT_URL,
            "region": settings.AWS_REGION,
            "billing_mode": "PAY_PER_REQUEST",
            # moto on 2 cores answers in a few ms; real DynamoDB in tens. Generous but bounded.
            "connect_timeout_seconds": 5,
            "read_timeout_seconds": 15,
            "max_retry_attempts": 3,
        },
    )


def register(model: type[Model]) -> type[Model]:
    """Class decorator: bootstrap creates this model's table."""
    ALL_MODELS.append(model)
    return model


def now() -> datetime:
    return datetime.now(UTC)


def not_expired(attribute: TTLAttribute):
    """Filter for reads that can see expiring items: DynamoDB deletes expired items up to 48 h
    late (and moto never does), so an expired item must be hidden by the query itself.

    TTLAttribute stores epoch *seconds* in a Number, as DynamoDB's TTL requires."""
    return attribute > now()


class Cursor:
    """Opaque pagination cursors: DynamoDB's LastEvaluatedKey, base64-encoded JSON."""

    @staticmethod
    def encode(last_evaluated_key: dict[str, Any] | None) -> str | None:
        if not last_evaluated_key:
            return None
        raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str | None) -> dict[str, Any] | None:
        if not cursor:
            return None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidCursor("cursor is not one this server issued") from None
        if not isinstance(value, dict):
            raise InvalidCursor("cursor is not one this server issued")
        return value


class InvalidCursor(ValueError):
    pass


__all__ = ["ALL_MODELS", "Cursor", "DAY", "InvalidCursor", "UTCDateTimeAttribute", "failed_conditions", "meta", "not_expired", "now", "register", "table_name", "transaction"]


def transaction() -> "TransactWrite":
    """A TransactWriteItems on the configured endpoint: all its writes commit, or none does."""
    from pynamodb.connection import Connection
    from pynamodb.transactions import TransactWrite

    return TransactWrite(connection=Connection(region=settings.AWS_REGION, host=settings.AWS_ENDPOINT_URL))


def failed_conditions(error: Exception) -> list[int]:
    """Indexes of the transaction's items whose condition failed (from a TransactWriteError)."""
    reasons = getattr(error, "cancellation_reasons", None) or []
    return [i for i, reason in enumerate(reasons) if reason is not None and reason.code == "ConditionalCheckFailed"]
