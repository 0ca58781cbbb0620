"""Contacts and the keys that keep their phone and email unique (DynamoDB has no unique
constraints: one ``ContactUniqueKeys`` item per live phone or email, written in the contact's own
transaction). docs/design/contacts.md says how.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from wecare.dynamo import DynamoModel, meta, now, register

CHANNELS = ("whatsapp", "sms", "email")
OPT_IN_FIELDS = {"whatsapp": "optInWhatsApp", "sms": "optInSms", "email": "optInEmail"}
CONSENT_FIELDS = {"whatsapp": "consentWhatsApp", "sms": "consentSms", "email": "consentEmail"}
WHATSAPP_WINDOW = timedelta(hours=24)
LIVE = "LIVE"


class PhoneIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "phone-index"
        projection = AllProjection()

    phone = UnicodeAttribute(hash_key=True)


class EmailIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "email-index"
        projection = AllProjection()

    email = UnicodeAttribute(hash_key=True)


class LiveIndex(GlobalSecondaryIndex):
    """Sparse: only live contacts carry ``liveList``, so deleted ones drop out of lists and
    name search without a filter, and the list comes back newest first."""

    class Meta:
        index_name = "liveList-createdAt-index"
        projection = AllProjection()

    liveList = UnicodeAttribute(hash_key=True)
    createdAt = UTCDateTimeAttribute(range_key=True)


class Consent(MapAttribute):
    """Who last set a channel's opt-in, when, and from where (page, api, csv, admin…).

    It also carries what the gate needs to name a refusal without reading the history (the
    newest ``ConsentEvent`` in short): the history source, whether the change turned a given
    consent off, and its evidence. Records written before these three existed lack them
    (``messaging.outbound.consent_rule`` reads those too)."""

    changedBy = UnicodeAttribute()
    changedAt = UTCDateTimeAttribute()
    source = UnicodeAttribute()  # the path's own name: page, api, inbox, csv:<import id>, keyword…
    how = UnicodeAttribute(null=True)  # the history source, one of contacts.consent.SOURCES
    wasOptedIn = BooleanAttribute(null=True)  # the opt-in before this change
    evidence = JSONAttribute(null=True)  # the change's evidence, as its ConsentEvent has it


@register
class Contact(DynamoModel):
    Meta = meta("Contacts")
    contactId = UnicodeAttribute(hash_key=True)  # ULID
    name = UnicodeAttribute(null=True)
    nameLower = UnicodeAttribute(null=True)  # for case-insensitive substring search
    phone = UnicodeAttribute(null=True)  # E.164
    email = UnicodeAttribute(null=True)  # lower-case
    # Meta's business-scoped user id (BSUID, "US.13491208655302741918"): how WhatsApp names a
    # customer who hides their number behind a username. Set only from WhatsApp, never typed.
    whatsappUserId = UnicodeAttribute(null=True)
    optInWhatsApp = BooleanAttribute(default=False)
    optInSms = BooleanAttribute(default=False)
    optInEmail = BooleanAttribute(default=False)
    consentWhatsApp = Consent(null=True)
    consentSms = Consent(null=True)
    consentEmail = Consent(null=True)
    lastInboundMessageAt = UTCDateTimeAttribute(null=True)
    # SES soft bounces (Transient / Undetermined) to this contact's address: counted, consent kept
    # (messaging/inbound/email_events.py). A hard bounce or a complaint turns optInEmail off instead.
    softBounceCount = NumberAttribute(null=True)
    lastSoftBounceAt = UTCDateTimeAttribute(null=True)
    # The address SES last reported a hard bounce or complaint for, and when and why
    # ({"address", "kind", "at", "feedbackId", ...}): the gate refuses email to that address
    # whatever the opt-in says, since a later opt-in does not revive a dead or complaining
    # address. Editing the contact's email to another address leaves it behind.
    emailSuppression = JSONAttribute(null=True)
    createdAt = UTCDateTimeAttribute()
    updatedAt = UTCDateTimeAttribute()
    deletedAt = UTCDateTimeAttribute(null=True)
    liveList = UnicodeAttribute(null=True)

    by_phone = PhoneIndex()
    by_email = EmailIndex()
    live = LiveIndex()

    @property
    def is_deleted(self) -> bool:
        return self.deletedAt is not None

    def email_suppression(self) -> dict[str, Any] | None:
        """SES's suppression of the contact's current address, if any."""
        record = self.emailSuppression
        if isinstance(record, dict) and self.email and record.get("address") == self.email:
            return record
        return None

    def opted_in(self, channel: str) -> bool:
        return bool(getattr(self, OPT_IN_FIELDS[channel]))

    def consent(self, channel: str) -> Consent | None:
        return getattr(self, CONSENT_FIELDS[channel])

    def whatsapp_window_expires_at(self, at: datetime | None = None) -> datetime | None:
        """When the 24-hour customer service window closes, or None if none is open."""
        if self.lastInboundMessageAt is None:
            return None
        expires = self.lastInboundMessageAt + WHATSAPP_WINDOW
        return expires if expires > (at or now()) else None


@register
class ContactUniqueKey(DynamoModel):
    Meta = meta("ContactUniqueKeys")
    uniqueKey = UnicodeAttribute(hash_key=True)  # "phone#<E.164>", "email#<lower-case>" or "wauser#<BSUID>"
    contactId = UnicodeAttribute()

    @staticmethod
    def for_field(field: str, value: str) -> str:
        return {"phone": "phone#", "email": "email#", "whatsappUserId": "wauser#"}[field] + value

    @classmethod
    def for_phone(cls, phone: str) -> str:
        return cls.for_field("phone", phone)

    @classmethod
    def for_email(cls, email: str) -> str:
        return cls.for_field("email", email)

    @classmethod
    def for_whatsapp_user(cls, user_id: str) -> str:
        return cls.for_field("whatsappUserId", user_id)


@register
class ConsentEvent(DynamoModel):
    """One change of one channel's opt-in: who, when, how and with what evidence. Written in the
    same transaction as the contact's opt-in (contacts/consent.py), never changed afterwards, so a
    contact's events per channel are its consent history (docs/design/contacts.md, "Consent history").
    """

    Meta = meta("ConsentEvents")
    contactId = UnicodeAttribute(hash_key=True)
    # "<channel>#<ULID>": a channel's events are one key prefix, and ULIDs sort by time.
    eventKey = UnicodeAttribute(range_key=True)
    channel = UnicodeAttribute()
    optedIn = BooleanAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()  # a username, "customer", "provider" or "system"
    source = UnicodeAttribute()  # one of contacts.consent.SOURCES
    detail = UnicodeAttribute()  # where it came from, as the contact's consent record names it
    evidence = JSONAttribute(default=dict)  # {"messageId": ..., "keyword": ..., "importId": ...}


__all__ = ["CHANNELS", "LIVE", "OPT_IN_FIELDS", "ConsentEvent", "Contact", "ContactUniqueKey"]


@register
class ContactImport(DynamoModel):
    """A CSV import and its progress; the file itself is in S3 (report bucket, imports/ prefix)."""

    Meta = meta("ContactImports")
    importId = UnicodeAttribute(hash_key=True)
    createdBy = UnicodeAttribute()
    createdAt = UTCDateTimeAttribute()
    s3Key = UnicodeAttribute()
    fileName = UnicodeAttribute(null=True)  # the uploaded file's name, as its page is titled
    status = UnicodeAttribute(default="queued")  # queued | running | completed | failed
    totalRows = NumberAttribute(default=0)
    processedRows = NumberAttribute(default=0)
    createdCount = NumberAttribute(default=0)
    existingCount = NumberAttribute(default=0)
    errorRows = JSONAttribute(default=list)  # [{"line": 3, "reason": "..."}]
    finishedAt = UTCDateTimeAttribute(null=True)

    @property
    def title(self) -> str:
        """What its page calls it: "Import of contacts.csv, 30 Nov 19:40 UTC"."""
        when = f"{self.createdAt:%d %b %H:%M} UTC"
        return f"Import of {self.fileName}, {when}" if self.fileName else f"Import, {when}"

    @property
    def percent(self) -> int:
        return (
            int(100 * self.processedRows / self.totalRows)
            if self.totalRows
            else (100 if self.status == "completed" else 0)
        )
