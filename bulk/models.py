"""Bulk campaign tables: BulkJobs (one item a job, with its counters), BulkRecipients (a job's
recipients ``r#…``, chunks ``chunk#…`` and plan ``plan#…`` in one partition) and BulkStartKeys
(idempotency keys of job starts). Why one partition, and how a chunk's tally keeps the counters
exact: docs/design/bulk-sending.md.
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
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from wecare.dynamo import DynamoModel, meta, register

JOB_STATUSES = ("pending", "running", "paused", "cancelled", "completed", "failed")
# "unknown": the worker claimed the recipient and died before recording the outcome; the provider
# call may or may not have happened, so it is never re-sent (the stuck sweep sets it).
RECIPIENT_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "cancelled", "unknown")
FINAL_RECIPIENT_STATUSES = ("sent", "failed", "skipped", "cancelled", "unknown")
RECIPIENT_PREFIX = "r#"
CHUNK_PREFIX = "chunk#"
PLAN_PREFIX = "plan#"


class ContentIndex(GlobalSecondaryIndex):
    """The jobs that said the same thing (``contentKey``), by creation time: bulk/repeats.py reads
    one window of one key with a Query rather than scanning every job. Sparse: a job started before
    jobs had a content key is not in it."""

    class Meta:
        index_name = "contentKey-createdAt-index"
        projection = AllProjection()

    contentKey = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


@register
class BulkJob(DynamoModel):
    Meta = meta("BulkJobs")
    jobId = UnicodeAttribute(hash_key=True)  # ULID: sorts by creation time
    createdBy = UnicodeAttribute()
    name = UnicodeAttribute(null=True)  # the campaign's name, as its lists and page show it
    channel = UnicodeAttribute()
    sender = UnicodeAttribute(null=True)  # the (first) number or sender it sends from
    # A WhatsApp campaign on several numbers: all of them, ``sender`` first; recipients take them in
    # turn (BulkRecipient.sender), so each number sends at its own rate limit. None: ``sender`` alone.
    senders: ListAttribute[str] | None = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    messageSpec = JSONAttribute()
    # What the message says, as a hash (bulk/repeats.py): a later job with the same content to the
    # same people within BULK_REPEAT_WARNING_HOURS asks for a confirmation first.
    contentKey = UnicodeAttribute(null=True)
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
    # Why the platform paused the job (WhatsApp made its template unusable: bulk/template_pause.py);
    # None when a person paused it. Cleared on resume.
    pausedReason = UnicodeAttribute(null=True)

    by_content = ContentIndex()

    @property
    def sending_from(self) -> list[str]:
        """Every number or sender the job sends from, ``sender`` first."""
        return list(self.senders or ([self.sender] if self.sender else []))

    @property
    def title(self) -> str:
        """The name, or for a job started before jobs had names, its id."""
        return self.name or self.jobId

    @property
    def preparing(self) -> bool:
        return self.preparedAt is None and self.completedAt is None

    @property
    def finished_count(self) -> int:
        return int(self.sentCount + self.failedCount + self.skippedCount + self.cancelledCount + self.unknownCount)


@register
class BulkRecipient(DynamoModel):
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
    sender = UnicodeAttribute(null=True)  # the number it goes from, in a campaign on several (else the job's)


class BulkChunk(DynamoModel):
    """Not registered: it lives in the BulkRecipients table (see the module docstring)."""

    Meta = meta("BulkRecipients")
    jobId = UnicodeAttribute(hash_key=True)
    recipientId = UnicodeAttribute(range_key=True)  # chunk#00000
    # PynamoDB types `of` as the element type itself, not the attribute class that stores it: the
    # annotation says what the list holds, and the ignore covers that mismatch in its stubs.
    recipientIds: ListAttribute[str] = ListAttribute(of=UnicodeAttribute)  # type: ignore[arg-type]
    tally = JSONAttribute(null=True)  # {"sent": n, ...} as last added to the job's counters
    tallyVersion = NumberAttribute(default=0)  # the condition that makes adding a tally exact


class BulkPlan(DynamoModel):
    """Not registered: it lives in the BulkRecipients table. Rows of the confirmed audience, in
    order, from row index ``first``: ``[row, contactId, address, parameters, refusal reason]``."""

    Meta = meta("BulkRecipients")
    jobId = UnicodeAttribute(hash_key=True)
    recipientId = UnicodeAttribute(range_key=True)  # plan#00000
    first = NumberAttribute()  # the recipient index (r#…) of rows[0]
    rows = JSONAttribute()


@register
class BulkStartKey(DynamoModel):
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
