"""A page of a DynamoDB query whose filter can thin it out: read again for what is still
missing, at most ``MAX_QUERIES_PER_PAGE`` times, so the key returned is exactly after the last item
kept. The inbox's list and the per-number lists of ``/api/inbox`` and ``/api/threads`` use it
(docs/design/inbox.md, "The list")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

MAX_QUERIES_PER_PAGE = 10  # a filter can thin pages out; stop after this many reads

T = TypeVar("T")


def filled(read: Callable[[int, Any], Any], limit: int, start: Any, kind: type[T]) -> tuple[list[T], Any]:
    """Items of ``kind`` from ``read(limit_left, start_key)`` (a PynamoDB result iterator) until
    ``limit`` are found or the query ends; and the key to go on from (None at the end)."""
    items: list[T] = []
    key = start
    for _ in range(MAX_QUERIES_PER_PAGE):
        results = read(limit - len(items), key)
        found: Iterable[Any] = results
        items.extend(i for i in found if isinstance(i, kind))
        key = results.last_evaluated_key
        if not key or len(items) >= limit:
            break
    return items, key
