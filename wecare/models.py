"""Platform tables: Users, AuditLogs, DLQMessages, SystemConfig, Alerts (DynamoDB through PynamoDB).

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


class AlertListIndex(GlobalSecondaryIndex):
    """Every alert, newest first: one partition (alerts are few: one per kind and subject per
    period), sparse (only alerts carry ``listed``; their dedup markers do not)."""

    class Meta:
        index_name = "listed-alertId-index"
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)  # always "alert"
    alertId = UnicodeAttribute(range_key=True)


@register
class Alert(DynamoModel):
    """A critical error raised in one period (wecare/alerts.py), with how often it repeated in it.
    Kept 90 days (TTL on expiresAt). Its kind and subject's dedup marker (``AlertMarker``) shares
    the table."""

    Meta = meta("Alerts")
    alertId = UnicodeAttribute(hash_key=True)  # ULID of the first raise: sorts by time
    listed = UnicodeAttribute(default="alert")
    kind = UnicodeAttribute()
    subject = UnicodeAttribute()
    summary = UnicodeAttribute()  # the latest raise's words
    link = UnicodeAttribute(null=True)  # a path on this site
    firstSeen = UTCDateTimeAttribute()
    lastSeen = UTCDateTimeAttribute()
    occurrences = NumberAttribute(default=1)  # raises in the period, this one included
    publishedAt = UTCDateTimeAttribute(null=True)  # None: not on the SNS topic (yet)
    publishTriedAt = UTCDateTimeAttribute(null=True)
    publishError = UnicodeAttribute(null=True)
    acknowledgedAt = UTCDateTimeAttribute(null=True)
    acknowledgedBy = UnicodeAttribute(null=True)
    expiresAt = TTLAttribute()

    by_time = AlertListIndex()


class AlertMarker(DynamoModel):
    """The dedup marker of one kind and subject (key ``marker#{kind}#{subject}``, in the Alerts
    table): which alert is the current period's, and when the period ends. A conditional write
    on it decides which of several concurrent raisers opens the next period."""

    Meta = meta("Alerts")
    alertId = UnicodeAttribute(hash_key=True)
    currentId = UnicodeAttribute()
    periodEnds = UTCDateTimeAttribute()
    expiresAt = TTLAttribute()
