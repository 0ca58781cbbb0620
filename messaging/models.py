"""Messaging tables: Messages, MediaFiles, RateLimitTrackers, VoiceCalls.

The WhatsApp single table, in its fixed layout, is in ``messaging/whatsapp_table.py``.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from wecare.dynamo import DynamoModel, meta, register, string_index

MESSAGE_RETENTION_DAYS = 30


class ByContactIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "contactId-timestamp-index"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    timestamp = UTCDateTimeAttribute(range_key=True)


class ByThreadIndex(GlobalSecondaryIndex):
    """An SMS or email conversation's messages in time order (messaging/threads.py)."""

    class Meta:
        index_name = "threadId-timestamp-index"
        projection = AllProjection()

    threadId = UnicodeAttribute(hash_key=True)
    timestamp = UTCDateTimeAttribute(range_key=True)


ByProviderMessageIndex = string_index("providerMessageId-index", "providerMessageId")


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    details = JSONAttribute(null=True)


@register
class Message(DynamoModel):
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
    createdBy = UnicodeAttribute(null=True)
    providerRequest = JSONAttribute(null=True)  # what went to the provider (or would have, in DRY_RUN)
    dryRun = BooleanAttribute(default=False)
    # Why it is sent (messaging.outbound.consent_rule.Purpose); absent: an ordinary message. Kept
    # on the record so the worker's second gate check (and a redelivered task) judges by it too.
    purpose = UnicodeAttribute(null=True)
    expiresAt = TTLAttribute()
    threadId = UnicodeAttribute(null=True)  # SMS and email: the conversation (messaging/threads.py)
    # SMS and email: the provider's id of a sent message (SendTextMessage / SES MessageId), by
    # which delivery events find it. WhatsApp's is whatsappMessageId and the single table's MSG# item.
    providerMessageId = UnicodeAttribute(null=True)

    by_contact = ByContactIndex()
    by_thread = ByThreadIndex()
    by_provider_id = ByProviderMessageIndex()


@register
class InboundEvent(DynamoModel):
    """One SMS notification processed (a two-way message, or a delivery event of a sent message):
    written in the transaction that records it, on condition it does not exist, so a duplicate
    changes nothing. WhatsApp's idempotency items live in the single table's fixed layout; SMS
    ones live here, apart from the conversations (docs/design/inbound.md, "Two-way SMS").
    Kept as long as the messages (30 days), longer than inbound-dlq keeps anything to replay."""

    Meta = meta("InboundEvents")
    eventKey = UnicodeAttribute(hash_key=True)  # "sms#<inboundMessageId>" | "sms-event#<messageId>#<eventType>"
    kind = UnicodeAttribute()  # sms_inbound | sms_event
    processedAt = UTCDateTimeAttribute()
    snsMessageId = UnicodeAttribute(null=True)
    messageId = UnicodeAttribute(null=True)  # the Messages item it recorded or moved
    contactId = UnicodeAttribute(null=True)
    # Two-way SMS: the consent step (keywords) is still to do; removed once done, so a
    # redelivery after a crash finishes it and a later replay does nothing.
    consentPending = BooleanAttribute(null=True)
    expiresAt = TTLAttribute()


ByMessageIndex = string_index("messageId-index", "messageId")


@register
class MediaFile(DynamoModel):
    Meta = meta("MediaFiles")
    fileId = UnicodeAttribute(hash_key=True)
    # None for a file uploaded to send (it may go in several messages, or none): an index key
    # cannot be empty, and a missing one keeps the item out of the index.
    messageId = UnicodeAttribute(null=True)
    s3Key = UnicodeAttribute()
    contentType = UnicodeAttribute()
    size = NumberAttribute()
    uploadedAt = UTCDateTimeAttribute()
    whatsappMediaId = UnicodeAttribute(null=True)

    by_message = ByMessageIndex()


@register
class RateLimitTracker(DynamoModel):
    """A token bucket's 1-second window for one channel (or sender). Expires after 24 h.

    The TTL is on ``expiresAt``, not ``lastUpdatedAt``: a TTL on a last-updated time would delete
    the item at once, so ``lastUpdatedAt`` stays plain data.
    """

    Meta = meta("RateLimitTrackers")
    channel = UnicodeAttribute(hash_key=True)
    windowStart = NumberAttribute(range_key=True)  # epoch seconds
    messageCount = NumberAttribute(default=0)
    lastUpdatedAt = UTCDateTimeAttribute(null=True)
    expiresAt = TTLAttribute()


@register
class UsageCounter(DynamoModel):
    """Sends per channel, sender and UTC day, template and free-form apart (WhatsApp bills them
    differently). One ADD per send; the cost page reads a handful of items."""

    Meta = meta("MessageUsage")
    usageKey = UnicodeAttribute(hash_key=True)  # "{channel}#{sender}#{YYYY-MM-DD}"
    channel = UnicodeAttribute()
    sender = UnicodeAttribute()
    day = UnicodeAttribute()
    templateCount = NumberAttribute(default=0)
    freeformCount = NumberAttribute(default=0)


CALL_RETENTION_DAYS = 90
CALLS_FEED = "calls"  # the one value of VoiceCall.feed: every call in one index partition, by time


class CallsByContactIndex(GlobalSecondaryIndex):
    """A contact's calls by time: the contact page, and ``GET /api/voice-calls?contactId=``."""

    class Meta:
        index_name = "contactId-startedAt-index"
        projection = AllProjection()

    contactId = UnicodeAttribute(hash_key=True)
    startedAt = UTCDateTimeAttribute(range_key=True)


class CallsByConversationIndex(GlobalSecondaryIndex):
    """A WhatsApp conversation's calls by time, placed among its messages in the inbox thread."""

    class Meta:
        index_name = "conversationPk-startedAt-index"
        projection = AllProjection()

    conversationPk = UnicodeAttribute(hash_key=True)
    startedAt = UTCDateTimeAttribute(range_key=True)


class CallsByTimeIndex(GlobalSecondaryIndex):
    """Every call by time (``GET /api/voice-calls`` without a contact): one partition, since a
    business's calls are far fewer than a partition's write rate (docs/design/calls.md)."""

    class Meta:
        index_name = "feed-startedAt-index"
        projection = AllProjection()

    feed = UnicodeAttribute(hash_key=True)
    startedAt = UTCDateTimeAttribute(range_key=True)


@register
class VoiceCall(DynamoModel):
    """One WhatsApp voice call (Meta's Calling API, the webhook's ``calls`` field), written by
    ``messaging/inbound/calls.py`` one event at a time, in any order. Kept 90 days.
    docs/design/calls.md."""

    Meta = meta("VoiceCalls")
    callId = UnicodeAttribute(hash_key=True)  # Meta's call id, "wacid.…"
    contactId = UnicodeAttribute(null=True)
    customer = UnicodeAttribute(null=True)  # the customer as WhatsApp named them: E.164 or user id
    phoneNumberId = UnicodeAttribute(null=True)  # our business number, "phone-number-id-<suffix>"
    conversationPk = UnicodeAttribute(null=True)  # the WhatsApp conversation it belongs in (CONV#…)
    direction = UnicodeAttribute(null=True)  # inbound (the customer called) | outbound (we called)
    status = UnicodeAttribute(null=True)  # ringing | accepted | rejected | completed | failed
    durationSeconds = NumberAttribute(null=True)  # talk time Meta reports when the call ends
    startedAt = UTCDateTimeAttribute()  # when the call was placed (connect), else when it began
    endedAt = UTCDateTimeAttribute(null=True)
    feed = UnicodeAttribute(default=CALLS_FEED)
    seenEvents = UnicodeSetAttribute(null=True)  # "connect", "terminate", "status:ringing"…: each applied once
    errors = JSONAttribute(null=True)  # Meta's errors on a failed call
    expiresAt = TTLAttribute()

    by_contact = CallsByContactIndex()
    by_conversation = CallsByConversationIndex()
    by_time = CallsByTimeIndex()

    @property
    def minutes_seconds(self) -> tuple[int, int] | None:
        """The talk time as (minutes, seconds) for the pages; None before the call ends."""
        if self.durationSeconds is None:
            return None
        minutes, seconds = divmod(int(self.durationSeconds), 60)
        return minutes, seconds


# The WhatsApp single table's models and the SMS/email threads live in their own modules; importing
# them here registers their tables with bootstrap like every other app table. (The inbox's tables,
# which import this module, are registered by messaging.apps.)
from messaging import threads, whatsapp_table  # noqa: E402,F401


@register
class TierSlot(DynamoModel):
    """The WhatsApp messaging limit (tier) as ``limit`` numbered slots per business portfolio.

    A user reached outside their 24 h service window holds one slot for 24 h; a slot is free when
    missing or expired, so "unique users in a moving 24 h <= limit" holds exactly under
    concurrency (claiming is a conditional put). The same table holds, under other hash keys,
    one item per recipient (``{portfolio}#recipient#{phone}``, slot 0: who already holds a slot)
    and the 80 % alert marker (``{portfolio}#alert``, slot 0). See ``messaging/outbound/tier.py``.
    """

    Meta = meta("WhatsAppTierSlots")
    portfolio = UnicodeAttribute(hash_key=True)
    slot = NumberAttribute(range_key=True)  # 0 .. limit-1
    recipient = UnicodeAttribute(null=True)  # E.164
    claimedAt = UTCDateTimeAttribute(null=True)
    expiresAt = TTLAttribute()
