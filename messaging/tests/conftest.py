"""Fixtures of the messaging tests.

moto's DynamoDB is not atomic under concurrent requests: its server handles each request in a
thread, and a conditional UpdateItem checks the condition and then writes with nothing in
between held, so two racing ADDs can both pass ``messageCount <= 4`` and both write 5 (measured
here: 8 threads x 150 windows of limit 5 gave 2 windows with 6 grants and a lost update). A
failed TransactWriteItems even restores a copy of the whole table taken before it started,
undoing other requests' writes. Real DynamoDB serializes writes to an item, which is the
guarantee the rate limits and the tier rely on; this fixture gives moto that guarantee by
running its write operations one at a time. Reads are left concurrent.
"""

from __future__ import annotations

import functools
import threading

import pytest

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


@pytest.fixture(scope="session", autouse=True)
def atomic_moto_writes():
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()  # re-entrant: a transaction calls put_item/update_item itself
    originals = {name: getattr(DynamoDBBackend, name) for name in WRITES}

    def serialized(method):
        @functools.wraps(method)
        def run(*args, **kwargs):
            with lock:
                return method(*args, **kwargs)

        return run

    for name, method in originals.items():
        setattr(DynamoDBBackend, name, serialized(method))
    yield
    for name, method in originals.items():
        setattr(DynamoDBBackend, name, method)
