"""Keep the local stack's data across restarts: moto holds everything in memory, so the dev
stack saves every DynamoDB item and S3 object to a JSON file when it stops (and every minute
while it runs) and loads it back at the next start, putting each dead-letter record's message back
on its queue (SQS is not saved). Local stack only.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from django.conf import settings

from wecare import dlq
from wecare.aws import client
from wecare.dynamo import ALL_MODELS


def save(path: Path) -> dict[str, int]:
    dynamodb, s3 = client("dynamodb"), client("s3")
    data: dict = {"dynamodb": {}, "s3": {}}
    counts = {}
    for model in ALL_MODELS:
        table = model.Meta.table_name
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
        data["dynamodb"][table] = items
        counts[table] = len(items)
    for bucket in dict.fromkeys([settings.MEDIA_BUCKET, settings.REPORT_BUCKET]):
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                objects[obj["Key"]] = base64.b64encode(body).decode()
        data["s3"][bucket] = objects
        counts[f"s3://{bucket}"] = len(objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)  # atomic: a crash mid-save never leaves half a snapshot
    return counts


def load(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    dynamodb, s3 = client("dynamodb"), client("s3")
    counts = {}
    for table, items in data.get("dynamodb", {}).items():
        for start in range(0, len(items), 25):
            requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            while requests:
                unprocessed = dynamodb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
                requests = unprocessed.get(table, [])
        counts[table] = len(items)
    for bucket, objects in data.get("s3", {}).items():
        for key, body in objects.items():
            s3.put_object(Bucket=bucket, Key=key, Body=base64.b64decode(body))
        counts[f"s3://{bucket}"] = len(objects)
    # SQS is not saved: each dead-letter record's message goes back on its queue, else the DLQ page
    # would count 0 waiting above the records loaded back.
    counts["dead-letter messages"] = dlq.requeue_records()
    return counts
