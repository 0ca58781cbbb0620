"""One AWS::DynamoDB::Table per registered model (ALL_MODELS), from the same PynamoDB schema
bootstrap_aws creates tables from: keys, global secondary indexes, the TTL attribute, on-demand
billing, plus what bootstrap cannot add to an existing table (point-in-time recovery, encryption
with the AWS-managed KMS key). A model registered tomorrow is in the next template unchanged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.conf import settings
from pynamodb.models import Model

from wecare.bootstrap import ttl_attribute
from wecare.dynamo import ALL_MODELS
from wecare.infrastructure.cfn import Json, logical_id, sub, var
from wecare.infrastructure.parameters import TABLE_PREFIX

KEY_ORDER = {"HASH": 0, "RANGE": 1}  # CloudFormation wants the hash key first


def base_name(model: type[Model]) -> str:
    """The table's name without this environment's prefix (the template adds the prefix it is given)."""
    return model.Meta.table_name.removeprefix(settings.DYNAMODB_TABLE_PREFIX)


def table_id(model: type[Model]) -> str:
    return logical_id(base_name(model), "Table")


def _key_schema(keys: Iterable[Mapping[str, Any]]) -> list[Json]:
    ordered = sorted(keys, key=lambda key: KEY_ORDER[key["KeyType"]])
    return [{"AttributeName": key["AttributeName"], "KeyType": key["KeyType"]} for key in ordered]


def table(model: type[Model]) -> Json:
    # PynamoDB's TypedDict of the schema, read here by key names chosen in a loop.
    schema = cast(dict[str, Any], model._get_schema())
    properties: Json = {
        "TableName": sub(var(TABLE_PREFIX) + base_name(model)),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(
            (
                {"AttributeName": d["AttributeName"], "AttributeType": d["AttributeType"]}
                for d in schema["attribute_definitions"]
            ),
            key=lambda d: d["AttributeName"],
        ),
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    for kind, name in (
        ("global_secondary_indexes", "GlobalSecondaryIndexes"),
        ("local_secondary_indexes", "LocalSecondaryIndexes"),
    ):
        indexes = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _key_schema(index["key_schema"]),
                "Projection": index["projection"],
            }
            for index in sorted(schema.get(kind, []), key=lambda index: index["index_name"])
        ]
        if indexes:
            properties[name] = indexes
    ttl = ttl_attribute(model)
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    # The data outlives the stack: deleting or replacing the stack must never drop a table.
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def resources() -> Json:
    return {table_id(model): table(model) for model in ALL_MODELS}
