"""Platform tables: Users, AuditLogs, DLQMessages, SystemConfig (DynamoDB through PynamoDB).

Django's relational tables hold only auth, groups, sessions and the admin log; these hold the
platform's own records.
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from wecare.dynamo import DynamoModel, meta, register


@register
class User(DynamoModel):
    """A person who logs in; written at every login (lastLoginAt)."""

    Meta = meta("Users")
    userId = UnicodeAttribute(hash_key=True)  # the Django username (Cognito `sub` for OIDC users)
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)  # viewer | operator | admin, or null for no role
    createdAt = UTCDateTimeAttribute()
    lastLoginAt = UTCDateTimeAttribute(null=True)


class AuditByDayIndex(GlobalSecondaryIndex):
    """Browse the trail one UTC day at a time, newest first."""

    class Meta:
        index_name = "day-logId-index"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)  # YYYY-MM-DD
    logId = UnicodeAttribute(range_key=True)


@register
class AuditLog(DynamoModel):
    """Who changed what. Kept 180 days (TTL on expiresAt)."""

    Meta = meta("AuditLogs")
    logId = UnicodeAttribute(hash_key=True)  # ULID: sorts by time
    day = UnicodeAttribute()
    userId = UnicodeAttribute()
    action = UnicodeAttribute()
    resourceType = UnicodeAttribute()
    resourceId = UnicodeAttribute(null=True)
    timestamp = UTCDateTimeAttribute()
    details = JSONAttribute(null=True)
    expiresAt = TTLAttribute()

    by_day = AuditByDayIndex()


@register
class DLQMessage(DynamoModel):
    """A message that reached a dead-letter queue, with its replay count. Kept 7 days."""

    Meta = meta("DLQMessages")
    dlqMessageId = UnicodeAttribute(hash_key=True)
    originalMessageId = UnicodeAttribute(null=True)
    queueName = UnicodeAttribute()
    retryCount = NumberAttribute(default=0)
    lastAttemptAt = UTCDateTimeAttribute(null=True)
    payload = UnicodeAttribute()
    expiresAt = TTLAttribute()


@register
class SystemConfig(DynamoModel):
    """Switches an admin changes at run time (AI automation, tier, welcome/menu)."""

    Meta = meta("SystemConfig")
    configKey = UnicodeAttribute(hash_key=True)
    configValue = JSONAttribute()
    updatedBy = UnicodeAttribute()
    updatedAt = UTCDateTimeAttribute()
