"""What every PynamoDB model here shares: table names, endpoint, billing, TTL and paging.

Models derive from ``DynamoModel``, declare ``Meta = meta("Contacts")`` and are ``@register``ed.
The endpoint and region come from settings, so the same models talk to moto on loopback locally
and in tests, and to DynamoDB in production. ``ALL_MODELS`` lists the one model per table that bootstrap creates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Generic, TypeVar, cast

from botocore.config import Config
from django.conf import settings
from django.core import signing
from pynamodb.attributes import Attribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model
from pynamodb.transactions import TransactWrite

from wecare import aws
from wecare.errors import DomainError

log = logging.getLogger(__name__)

ALL_MODELS: list[type[Model]] = []

DAY = 24 * 60 * 60

# moto on 2 cores answers in a few ms; real DynamoDB in tens. Generous but bounded.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
MAX_RETRY_ATTEMPTS = 3


def table_name(name: str) -> str:
    return f"{settings.DYNAMODB_TABLE_PREFIX}{name}"


def meta(name: str) -> MetaProtocol:
    """Build a Meta class for the table ``name`` (prefixed) on the configured endpoint."""
    cls = type(
        "Meta",
        (),
        {
            "table_name": table_name(name),
            "host": settings.AWS_ENDPOINT_URL,
            "region": settings.AWS_REGION,
            "billing_mode": "PAY_PER_REQUEST",
            "connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS,
            "read_timeout_seconds": READ_TIMEOUT_SECONDS,
            "max_retry_attempts": MAX_RETRY_ATTEMPTS,
        },
    )
    # PynamoDB reads a model's Meta through its attributes (typed as MetaProtocol); a class serves.
    return cast(MetaProtocol, cls)


# The configuration PynamoDB gives the clients it builds (pynamodb.connection.base.Connection.client).
_PYNAMODB_CONFIG = Config(
    parameter_validation=False,
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"total_max_attempts": 1 + MAX_RETRY_ATTEMPTS, "mode": "standard"},
)


def models_client(region: str | None = None, host: str | None = None):
    """The process's one DynamoDB client for models and transactions (by default on the
    configured endpoint, as ``meta`` points the models)."""
    return aws.shared_client(
        "dynamodb",
        region=region or settings.AWS_REGION,
        endpoint_url=host or settings.AWS_ENDPOINT_URL,
        config=_PYNAMODB_CONFIG,
        kind="pynamodb",
    )


def _share_client(connection: Connection) -> Connection:
    """Give a PynamoDB connection the process's one DynamoDB client. Left to itself, PynamoDB
    builds a botocore session and client per model's connection on its first request (over a
    hundred milliseconds of CPU each, and its own pool of HTTP connections); every model and
    transaction here talks to the same endpoint with the same configuration."""
    if connection._client is None:
        connection._client = models_client(connection.region, connection.host)
    return connection


class DynamoModel(Model):
    """The base of every model here: its requests go through the process's one DynamoDB client."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        _share_client(table.connection)
        return table


def string_index(name: str, hash_attr: str, range_attr: str | None = None) -> type:
    """A GlobalSecondaryIndex class over string key attributes, projecting every attribute."""
    attrs: dict[str, Any] = {
        "Meta": type("Meta", (), {"index_name": name, "projection": AllProjection()}),
        hash_attr: UnicodeAttribute(hash_key=True),
    }
    if range_attr:
        attrs[range_attr] = UnicodeAttribute(range_key=True)
    return type(f"{hash_attr}Index", (GlobalSecondaryIndex,), attrs)


def register(model: type[Model]) -> type[Model]:
    """Class decorator: bootstrap creates this model's table."""
    ALL_MODELS.append(model)
    return model


def now() -> datetime:
    return datetime.now(UTC)


def update_if(item: Model, *, actions: list, condition: Any) -> bool:
    """``item.update`` on ``condition``; False (nothing written) when the condition did not hold."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def not_expired(attribute: TTLAttribute):
    """Filter for reads that can see expiring items: DynamoDB deletes expired items up to 48 h
    late (and moto never does), so an expired item must be hidden by the query itself.

    TTLAttribute stores epoch *seconds* in a Number, as DynamoDB's TTL requires."""
    return attribute > now()


class Cursor:
    """Opaque pagination cursors: DynamoDB's LastEvaluatedKey, signed for the list that issued it.

    A cursor comes back from the client, and DynamoDB refuses far more start keys than moto does
    (another type, another partition, an oversized value): each of those was a 500. So a cursor
    is signed (HMAC with SECRET_KEY, ``django.core.signing``) together with its ``scope``, the list
    and partition it pages through ("bulk-recipients:<job id>"). Only a key DynamoDB itself
    returned for that same list verifies; anything else is InvalidCursor, which the API answers
    422 and the pages answer by starting again from the first page.
    """

    MAX_LENGTH = 2000  # ours are a few hundred characters; refuse longer before any HMAC work
    SALT = "wecare.dynamo.Cursor:"

    @classmethod
    def encode(cls, last_evaluated_key: dict[str, Any] | None, scope: str) -> str | None:
        if not last_evaluated_key:
            return None
        return signing.dumps(last_evaluated_key, salt=cls.SALT + scope, compress=True)

    @classmethod
    def decode(cls, cursor: str | None, scope: str) -> dict[str, Any] | None:
        """The start key a cursor names, if this server issued it for ``scope``."""
        if not cursor:
            return None
        if len(cursor) > cls.MAX_LENGTH:
            raise InvalidCursor()
        try:
            key = signing.loads(cursor, salt=cls.SALT + scope)
        except signing.BadSignature:
            raise InvalidCursor() from None
        if not isinstance(key, dict):  # only if SECRET_KEY signed something else with our salt
            raise InvalidCursor()
        return key


class InvalidCursor(DomainError, ValueError):
    """A cursor this list did not issue (422, as a validation error of the ``cursor`` query)."""

    status = 422

    def __init__(self) -> None:
        super().__init__("invalid cursor: start again from the first page")

    def body(self) -> dict[str, Any]:
        # The shape of ninja's own validation errors, as for FieldErrors.
        return {"detail": [{"loc": ["query", "cursor"], "msg": str(self), "type": "value_error"}]}


T = TypeVar("T")
M = TypeVar("M", bound=Model)


def set_nullable(attribute: Attribute[T], value: T | None) -> Action:
    """``attribute.set(value)`` where the value may be None, which PynamoDB writes as DynamoDB's NULL.
    Its type hints leave None out of ``set``; this one place says that None is meant."""
    return attribute.set(value)  # type: ignore[arg-type]  # run time takes None (see the docstring)


@dataclass
class Page(Generic[T]):
    """One page of a paged read: its items and the ``Cursor`` of the next page (None: the last).
    ``scanned`` is how many items DynamoDB read for it, where a filter dropped some."""

    items: list[T]
    next_cursor: str | None
    scanned: int = 0


def filtered_page(pages: Any, model: type[M], *, limit: int, scope: str, max_scanned: int) -> Page[M]:
    """Up to ``limit`` items of a filtered read, walking DynamoDB's raw pages (a Model's
    ``query(...).page_iter`` or ``scan(...).page_iter``) rather than its items, so a filter that
    matches little still stops after ``max_scanned`` reads and hands back a cursor instead of
    reading the whole index. The cursor after the last item taken is that item's own key (the
    page's LastEvaluatedKey may lie beyond items not yet returned)."""
    items: list[M] = []
    for page in pages:
        for raw in page.get("Items", []):
            items.append(model.from_raw_data(raw))
            if len(items) == limit:
                last = {name: raw[name] for name in pages.key_names}
                return Page(items, Cursor.encode(last, scope=scope), pages.total_scanned_count)
        if pages.total_scanned_count >= max_scanned:
            return Page(items, Cursor.encode(pages.last_evaluated_key, scope=scope), pages.total_scanned_count)
    return Page(items, None, pages.total_scanned_count)


__all__ = [
    "ALL_MODELS",
    "DAY",
    "Cursor",
    "DynamoModel",
    "InvalidCursor",
    "Page",
    "Transaction",
    "filtered_page",
    "meta",
    "not_expired",
    "now",
    "register",
    "set_nullable",
    "string_index",
    "table_name",
    "transaction",
]


@cache
def _connection(region: str, host: str | None):
    """One PynamoDB connection per endpoint, on the models' shared client (thread-safe)."""
    return _share_client(Connection(region=region, host=host))


class Transaction:
    """A TransactWriteItems on the configured endpoint: all its writes commit, or none does.

    Each item can carry a label, so a cancelled transaction says *which* condition failed.
    PynamoDB sends items grouped by kind (condition checks, deletes, puts, updates), not in the
    order they were added, and DynamoDB's cancellation reasons follow the sent order; the
    labels are kept in that same order.
    """

    _KINDS = ("condition_check", "delete", "save", "update")

    def __init__(self) -> None:
        self._tx = TransactWrite(connection=_connection(settings.AWS_REGION, settings.AWS_ENDPOINT_URL))
        self._labels: dict[str, list[Any]] = {kind: [] for kind in self._KINDS}
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Transaction:
        self._tx.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._tx.__exit__(*exc_info)  # commits, or raises why it did not
        if exc_info[0] is None:
            for callback in self._after_commit:
                try:
                    callback()
                except Exception:
                    # The write is committed: raising now would tell the caller it failed, and a
                    # retry would find it done (a "duplicate") and skip what follows the record
                    # (an inbound message's auto-reply, for one).
                    log.exception("after-commit callback failed; the transaction is committed")

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed (never if it is cancelled): work that
        must follow the write, such as enqueuing a task that reads it. A callback that raises is
        logged, never raised: the transaction has committed by then."""
        self._after_commit.append(callback)

    def _add(self, kind: str, label: Any, *args: Any, **kwargs: Any) -> None:
        getattr(self._tx, kind)(*args, **kwargs)
        self._labels[kind].append(label)

    def save(self, model: Model, *, condition: Any = None, label: Any = None) -> None:
        self._add("save", label, model, condition=condition)

    def update(self, model: Model, *, actions: list, condition: Any = None, label: Any = None) -> None:
        self._add("update", label, model, actions=actions, condition=condition)

    def delete(self, model: Model, *, condition: Any = None, label: Any = None) -> None:
        self._add("delete", label, model, condition=condition)

    def condition_check(
        self, model_cls: type[Model], hash_key: Any, range_key: Any = None, *, condition: Any, label: Any = None
    ) -> None:
        """A condition on an item the transaction does not write (it commits only if it holds)."""
        self._add("condition_check", label, model_cls, hash_key, range_key, condition=condition)

    def failed_labels(self, error: Exception) -> list[Any]:
        """Labels of the items whose condition failed, from the TransactWriteError."""
        sent = [label for kind in self._KINDS for label in self._labels[kind]]
        reasons = getattr(error, "cancellation_reasons", None) or []
        return [
            sent[i]
            for i, reason in enumerate(reasons)
            if reason is not None and reason.code == "ConditionalCheckFailed" and i < len(sent)
        ]


def transaction() -> Transaction:
    return Transaction()
