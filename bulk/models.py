"""Bulk campaign tables: BulkJobs and BulkRecipients (which also holds each job's chunks).

A job's recipients are ``r#000001``, ``r#000002``… in audience order; its chunks of 100 are
``chunk#00000``… in the same table and partition, so one Query reads a job's recipients
(``begins_with("r#")``) and a chunk's items never need a table of their own. A chunk item holds
its recipient ids and the tally of their final states that the job's counters last received
from it: counting a chunk again (a redelivered or replayed chunk, the stuck sweep) adds only the
difference, so the counters stay exact however often a chunk runs.

Starting a job writes only the job and its *plan*: the audience rows the person confirmed, a few
``plan#00000`` items of up to ~1,000 rows each in the same partition. The ``bulk.prepare_job``
task turns the plan into recipients and chunks (``bulk/preparation.py``), so a 10,000-row job
does not write 10,100 items inside an HTTP request. ``BulkStartKeys`` holds the idempotency keys
of job starts (``bulk/idempotency.py``).
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from wecare.dynamo import meta, register

JOB_STATUSES = ("pending", "running", "paused", "cancelled", "completed", "failed")
# "unknown": the worker claimed the recipient and died before recording the outcome; the provider
# call may or may not have happened, so it is never re-sent (the stuck sweep sets it).
RECIPIENT_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "cancelled", "unknown")
FINAL_RECIPIENT_STATUSES = ("sent", "failed", "skipped", "cancelled", "unknown")
RECIPIENT_PREFIX = "r#"
CHUNK_PREFIX = "chunk#"
PLAN_PREFIX = "plan#"


@register
class BulkJob(Model):
    Meta = meta("BulkJobs")
    jobId = UnicodeAttribute(hash_key=True)  # ULID: sorts by creation time
    createdBy = UnicodeAttribute()
    channel = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)
    messageSpec = JSONAttribute()
    audience = JSONAttribute(null=True)  # what the audience was (kind, filter); the rows are the recipients
    totalRecipients = NumberAttribute(default=0)
    sentCount = NumberAttribute(default=0)
    failedCount = NumberAttribute(default=0)
    skippedCount = NumberAttribute(default=0)
    cancelledCount = NumberAttribute(default=0)
    unknownCount = NumberAttribute(default=0)
    chunkCount = NumberAttribute(default=0)
    previewedCount = NumberAttribute(null=True)
    status = UnicodeAttribute(default="pending")
    reportKey = UnicodeAttribute(null=True)
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()
    startedAt = UTCDateTimeAttribute(null=True)
    completedAt = UTCDateTimeAttribute(null=True)  # set once, when every recipient is final
    # Preparation (bulk.prepare_job): recipients written so far, and when all were written and
    # the chunks queued. A job is "preparing" while preparedAt is unset, whatever its status.
    preparedRecipients = NumberAttribute(default=0)
    preparedAt = UTCDateTimeAttribute(null=True)
    idempotencyKey = UnicodeAttribute(null=True)  # the client's Idempotency-Key, when it sent one

    @property
    def preparing(self) -> bool:
        return self.preparedAt is None and self.completedAt is None

    @property
    def finished_count(self) -> int:
        return int(self.sentCount + self.failedCount + self.skippedCount + self.cancelledCount + self.unknownCount)


@register
class BulkRecipient(Model):
    Meta = meta("BulkRecipients")
    jobId = UnicodeAttribute(hash_key=True)
    recipientId = UnicodeAttribute(range_key=True)  # r#000001
    row = NumberAttribute(null=True)  # position in the audience (CSV data row)
    contactId = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)  # phone or email at job start
    status = UnicodeAttribute(default="pending")
    reason = UnicodeAttribute(null=True)
    parameters = JSONAttribute(null=True)
    claimedAt = UTCDateTimeAttribute(null=True)  # pending -> sending
    sentAt = UTCDateTimeAttribute(null=True)
    finishedAt = UTCDateTimeAttribute(null=True)
    messageId = UnicodeAttribute(null=True)
    chunk = UnicodeAttribute(null=True)  # the chunk that sends it (None: refused at preview)


class BulkChunk(Model):
    """Not registered: it lives in the BulkRecipients table (see the module docstring)."""

    Meta = meta("BulkRecipients")
    jobId = UnicodeAttribute(hash_key=True)
    recipientId = UnicodeAttribute(range_key=True)  # chunk#00000
    recipientIds = ListAttribute(of=UnicodeAttribute)
    tally = JSONAttribute(null=True)  # {"sent": n, ...} as last added to the job's counters
    tallyVersion = NumberAttribute(default=0)  # the condition that makes adding a tally exact


class BulkPlan(Model):
    """Not registered: it lives in the BulkRecipients table. Rows of the confirmed audience, in
    order, from row index ``first``: ``[row, contactId, address, parameters, refusal reason]``."""

    Meta = meta("BulkRecipients")
    jobId = UnicodeAttribute(hash_key=True)
    recipientId = UnicodeAttribute(range_key=True)  # plan#00000
    first = NumberAttribute()  # the recipient index (r#…) of rows[0]
    rows = JSONAttribute()


@register
class BulkStartKey(Model):
    """One job start's idempotency key, scoped to the person (or API client) who sent it."""

    Meta = meta("BulkStartKeys")
    startKey = UnicodeAttribute(hash_key=True)  # "<actor id>#<Idempotency-Key>"
    jobId = UnicodeAttribute()
    fingerprint = UnicodeAttribute()  # SHA-256 of the start's payload: the same key with another payload is a 409
    createdAt = UTCDateTimeAttribute()
    expiresAt = TTLAttribute()


def plan_key(index: int) -> str:
    return f"{PLAN_PREFIX}{index:05d}"


def recipient_key(index: int) -> str:
    return f"{RECIPIENT_PREFIX}{index:06d}"


def chunk_key(index: int) -> str:
    return f"{CHUNK_PREFIX}{index:05d}"
