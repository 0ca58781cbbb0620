"""The task's reads of items it needs together (the switch, the message and its conversation; the
contact and its lead), made as one consistent BatchGetItem across their tables rather than one
GetItem each: every request costs the database a round trip, and a draft runs for every inbound
text. docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import time
from typing import Any

from pynamodb.models import Model

from wecare.dynamo import models_client

# BatchGetItem may leave keys unprocessed under load; they are asked again after a short pause.
UNPROCESSED_TRIES = 5


def _key(model: type[Model], hash_key: Any, range_key: Any = None) -> dict[str, dict[str, Any]]:
    hashed, ranged = model._serialize_keys(hash_key, range_key)
    hash_attr = model._hash_key_attribute()
    key = {hash_attr.attr_name: {hash_attr.attr_type: hashed}}
    range_attr = model._range_key_attribute()
    if range_attr is not None:
        key[range_attr.attr_name] = {range_attr.attr_type: ranged}
    return key


def get_many(*wanted: tuple[type[Model], Any] | tuple[type[Model], Any, Any]) -> list[Any]:
    """Each wanted item (model, hash key[, range key]) read consistently, in the order asked; None
    for one that does not exist. One BatchGetItem (two items must not share a table and key)."""
    keys = [(model, _key(model, *key)) for model, *key in wanted]
    request: dict[str, dict[str, Any]] = {}
    for model, key in keys:
        table = model.Meta.table_name
        request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
    found: dict[str, list[dict[str, Any]]] = {}
    for attempt in range(UNPROCESSED_TRIES):
        answer = models_client().batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
        time.sleep(0.05 * 2**attempt)
    else:
        raise RuntimeError("DynamoDB left keys unprocessed after retries")
    return [_match(model, key, found.get(model.Meta.table_name, [])) for model, key in keys]


def _match(model: type[Model], key: dict[str, dict[str, Any]], items: list[dict[str, Any]]) -> Any:
    for item in items:
        if all(item.get(name) == value for name, value in key.items()):
            return model.from_raw_data(item)
    return None
