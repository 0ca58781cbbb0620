"""BatchWriteItem for many items, UnprocessedItems retried with exponential backoff.

DynamoDB may accept only part of a batch (throttling, partition limits) and hands the rest back
as UnprocessedItems; writing them again at once tends to be refused again, so we back off.
PynamoDB's own ``batch_write`` retries without a pause and gives up after three tries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from pynamodb.models import Model

from wecare.aws import client

log = logging.getLogger("bulk.batching")

BATCH = 25  # DynamoDB's limit per BatchWriteItem
MAX_ATTEMPTS = 8  # 0.05 s doubling: about 6 s of waiting before giving up on a batch


class BatchWriteFailed(RuntimeError):
    pass


def write_all(items: Iterable[Model], *, sleep: Callable[[float], None] = time.sleep, batch_write=None) -> int:
    """Put every item; returns the number of BatchWriteItem requests made.

    ``batch_write`` is the DynamoDB call (the client's by default); a test passes one that
    leaves items unprocessed to prove they are written again."""
    call = batch_write or client("dynamodb").batch_write_item
    pending: list[tuple[str, dict]] = [
        (item.Meta.table_name, {"PutRequest": {"Item": item.serialize()}}) for item in items
    ]
    requests = 0
    while pending:
        batch, pending = pending[:BATCH], pending[BATCH:]
        request: dict[str, list[dict]] = {}
        for table, put in batch:
            request.setdefault(table, []).append(put)
        for attempt in range(MAX_ATTEMPTS):
            requests += 1
            unprocessed = call(RequestItems=request).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            log.info(
                "batch write left items unprocessed; retrying",
                extra={"items": sum(len(v) for v in unprocessed.values()), "attempt": attempt + 1},
            )
            request = unprocessed
            sleep(0.05 * (2**attempt))
        else:
            raise BatchWriteFailed(
                f"{sum(len(v) for v in request.values())} items still unprocessed after {MAX_ATTEMPTS} attempts"
            )
    return requests
