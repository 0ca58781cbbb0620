"""Messaging tables: Messages, MediaFiles, RateLimitTrackers, VoiceCalls.

The WhatsApp single table (the seed contract) is in ``messaging/whatsapp_table.py``.
"""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from wecare.dynamo import meta, register

MESSAGE_RETENTION_DAYS = 30


class ByContactIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "contactId-timestamp-index"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    timestamp = UTCDateTimeAttribute(range_key=True)


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    details = JSONAttribute(null=True)


@register
class Message(Model):
    """One message on any channel, either direction. Kept 30 days (TTL on expiresAt)."""

    Meta = meta("Messages")
    messageId = UnicodeAttribute(hash_key=True)  # ULID
    contactId = UnicodeAttribute()
    channel = UnicodeAttribute()  # whatsapp | sms | email
    direction = UnicodeAttribute()  # inbound | outbound
    content = JSONAttribute(null=True)
    timestamp = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    statusHistory = ListAttribute(of=StatusChange, default=list)
    errorDetails = JSONAttribute(null=True)
    whatsappMessageId = UnicodeAttribute(null=True)
    mediaId = UnicodeAttribute(null=True)
    templateName = UnicodeAttribute(null=True)  # set for template sends: counted apart for cost
    sender = UnicodeAttribute(null=True)
    bulkJobId = UnicodeAttribute(null=True)
    expiresAt = TTLAttribute()

    by_contact = ByContactIndex()


class ByMessageIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "messageId-index"
        projection = AllProjection()

    messageId = UnicodeAttribute(hash_key=True)


@register
class MediaFile(Model):
    Meta = meta("MediaFiles")
    fileId = UnicodeAttribute(hash_key=True)
    messageId = UnicodeAttribute()
    s3Key = UnicodeAttribute()
    contentType = UnicodeAttribute()
    size = NumberAttribute()
    uploadedAt = UTCDateTimeAttribute()
    whatsappMediaId = UnicodeAttribute(null=True)

    by_message = ByMessageIndex()


@register
class RateLimitTracker(Model):
    """A token bucket's 1-second window for one channel (or sender). Expires after 24 h.

    The seed puts TTL on ``lastUpdatedAt``; a TTL on a last-updated time would delete the item
    at once, so it stays data and the item expires on ``expiresAt``.
    """

    Meta = meta("RateLimitTrackers")
    channel = UnicodeAttribute(hash_key=True)
    windowStart = NumberAttribute(range_key=True)  # epoch seconds
    messageCount = NumberAttribute(default=0)
    lastUpdatedAt = UTCDateTimeAttribute(null=True)
    expiresAt = TTLAttribute()


@register
class VoiceCall(Model):
    """Voice call records (seed 004). Kept 90 days."""

    Meta = meta("VoiceCalls")
    callId = UnicodeAttribute(hash_key=True)
    contactId = UnicodeAttribute()
    direction = UnicodeAttribute()
    status = UnicodeAttribute()
    durationSeconds = NumberAttribute(default=0)
    startedAt = UTCDateTimeAttribute()
    expiresAt = TTLAttribute()


# The WhatsApp single table's models live in their own module; importing it here registers
# the table with bootstrap like every other app table.
from messaging import whatsapp_table  # noqa: E402,F401
