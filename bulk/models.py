"""Bulk campaign tables: BulkJobs and BulkRecipients."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from wecare.dynamo import meta, register

JOB_STATUSES = ("pending", "running", "paused", "cancelled", "completed", "failed")
RECIPIENT_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "cancelled")


@register
class BulkJob(Model):
    Meta = meta("BulkJobs")
    jobId = UnicodeAttribute(hash_key=True)
    createdBy = UnicodeAttribute()
    channel = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)
    messageSpec = JSONAttribute()
    totalRecipients = NumberAttribute(default=0)
    sentCount = NumberAttribute(default=0)
    failedCount = NumberAttribute(default=0)
    skippedCount = NumberAttribute(default=0)
    status = UnicodeAttribute(default="pending")
    reportKey = UnicodeAttribute(null=True)
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()
    startedAt = UTCDateTimeAttribute(null=True)
    completedAt = UTCDateTimeAttribute(null=True)


@register
class BulkRecipient(Model):
    Meta = meta("BulkRecipients")
    jobId = UnicodeAttribute(hash_key=True)
    recipientId = UnicodeAttribute(range_key=True)
    contactId = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="pending")
    reason = UnicodeAttribute(null=True)
    parameters = JSONAttribute(null=True)
    sentAt = UTCDateTimeAttribute(null=True)
    messageId = UnicodeAttribute(null=True)
