"""The log group every task writes to (LOG_GROUP), kept at least 30 days."""

from __future__ import annotations

from django.conf import settings

from wecare.infrastructure.cfn import Json

LOG_GROUP_ID = "LogGroup"
RETENTION_DAYS = 30


def resources() -> Json:
    return {
        LOG_GROUP_ID: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",  # logs are evidence: they outlive the stack
            "UpdateReplacePolicy": "Retain",
            "Properties": {"LogGroupName": settings.LOG_GROUP, "RetentionInDays": RETENTION_DAYS},
        }
    }
