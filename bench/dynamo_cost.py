"""What DynamoDB a benchmark's run cost: every request counted by operation at the moto server,
from any process, and the write units its writes would be charged on DynamoDB (computed from the
items' final sizes: moto's ConsumedCapacity is a fixed 1.0). The script's own reads go through
``polling_client`` and are left out. bench/README.md ("Bulk benchmark") explains the charging."""

from __future__ import annotations

import io
import json
import math
from collections import Counter, defaultdict
from threading import Lock

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
POLL_AGENT = "bench-poll"


class RecordingApp:
    """WSGI middleware in front of moto: per phase, DynamoDB requests by operation (the script's
    own polling apart) and the items each write request touched, for the write-unit figure."""

    def __init__(self, app):
        self.app, self.lock = app, Lock()
        self.counts: Counter = Counter()
        self.polling: Counter = Counter()
        # Write requests as received, (operation, body): parsed only at ``take``, after the phase, so
        # the counting costs the moto process (the stack being measured) as little as possible.
        self.raw_writes: list[tuple[str, bytes]] = []

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            operation = target.split(".", 1)[1]
            if POLL_AGENT in environ.get("HTTP_USER_AGENT", ""):
                with self.lock:
                    self.polling[operation] += 1
            else:
                body = b""
                if operation in WRITE_OPS:
                    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                    environ["wsgi.input"] = io.BytesIO(body)
                with self.lock:
                    self.counts[operation] += 1
                    if operation in WRITE_OPS:
                        self.raw_writes.append((operation, body))
        return self.app(environ, start_response)

    def take(self) -> tuple[Counter, list]:
        """What was counted since the last take, and start afresh."""
        with self.lock:
            counts, raw = self.counts, self.raw_writes
            self.counts, self.raw_writes, self.polling = Counter(), [], Counter()
        writes = [w for operation, body in raw for w in _writes(operation, json.loads(body or b"{}"))]
        return counts, writes


def _writes(operation: str, body: dict) -> list[tuple[str, str, dict, bool]]:
    if operation == "PutItem":
        return [(body["TableName"], "put", body["Item"], False)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(body["TableName"], operation[:6].lower(), body["Key"], False)]
    if operation == "BatchWriteItem":
        return [
            (table, "put", r["PutRequest"]["Item"], False)
            if "PutRequest" in r
            else (table, "delete", r["DeleteRequest"]["Key"], False)
            for table, requests in body["RequestItems"].items()
            for r in requests
        ]
    found = []
    for entry in body.get("TransactItems", []):
        kind, spec = next(iter(entry.items()))
        if kind == "Put":
            found.append((spec["TableName"], "put", spec["Item"], True))
        elif kind in ("Update", "Delete"):
            found.append((spec["TableName"], kind.lower(), spec["Key"], True))
        # ConditionCheck: charged as a write by DynamoDB too, on the item read
        elif kind == "ConditionCheck":
            found.append((spec["TableName"], "update", spec["Key"], True))
    return found


def attribute_size(value: dict) -> int:
    """Bytes DynamoDB counts for one attribute value (its documented item-size rules)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return 1 + math.ceil(len(digits) / 2) + (1 if inner.startswith("-") else 0)
    if kind == "B":
        return len(inner) * 3 // 4  # base64 on the wire
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in inner.items())
    return sum(attribute_size({kind[0]: v}) for v in inner)  # SS, NS, BS


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(writes: list[tuple[str, str, dict, bool]]) -> dict:
    """Write units of the recorded writes, from the items' final sizes (read back from moto)."""
    dynamodb = polling_client()  # its reads come after the phase's counts were taken
    tables = {t: dynamodb.describe_table(TableName=t)["Table"] for t in {w[0] for w in writes}}

    def key_of(table: str, item: dict) -> tuple:
        return tuple(
            item[k["AttributeName"]]["S"] if "S" in item[k["AttributeName"]] else item[k["AttributeName"]]["N"]
            for k in tables[table]["KeySchema"]
        )

    wanted: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for table, kind, item, _ in writes:
        if kind in ("update", "delete"):
            wanted[table][key_of(table, item)] = item
    final: dict[tuple[str, tuple], dict] = {}
    for table, keys in wanted.items():
        keys = list(keys.values())
        for start in range(0, len(keys), 100):
            pending = {table: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while pending:
                answer = dynamodb.batch_get_item(RequestItems=pending)
                for item in answer["Responses"].get(table, []):
                    final[(table, key_of(table, item))] = item
                pending = answer.get("UnprocessedKeys") or {}
    base = gsi = 0
    by_table: Counter = Counter()
    for table, kind, item, transactional in writes:
        if kind in ("update", "delete"):
            item = final.get((table, key_of(table, item)), item)  # a deleted item: its key's size
        units = math.ceil(max(item_size(item), 1) / 1024) * (2 if transactional else 1)
        base += units
        by_table[table] += units
        for index in tables[table].get("GlobalSecondaryIndexes", []):
            keys = [k["AttributeName"] for k in index["KeySchema"]]
            if all(k in item for k in keys):
                projection = index["Projection"]
                if projection["ProjectionType"] == "ALL":
                    size = item_size(item)
                else:
                    names = (
                        set(keys)
                        | {k["AttributeName"] for k in tables[table]["KeySchema"]}
                        | set(projection.get("NonKeyAttributes", []))
                    )
                    size = item_size({n: v for n, v in item.items() if n in names})
                gsi += math.ceil(max(size, 1) / 1024)
    return {"base": base, "gsi": gsi, "by_table": dict(by_table)}


def polling_client():
    """A DynamoDB client of the script's own, marked so the request counter leaves it out."""
    # Here, not at the top: the settings are only readable once the bench has set up Django.
    import boto3
    import botocore.config
    from django.conf import settings

    return boto3.client(
        "dynamodb",
        endpoint_url=settings.AWS_ENDPOINT_URL,
        region_name=settings.AWS_REGION,
        config=botocore.config.Config(user_agent_extra=POLL_AGENT),
    )
