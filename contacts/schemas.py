"""API shapes for contacts: separate In, Patch and Out schemas."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field

from contacts.models import CHANNELS, ConsentEvent, Contact


class ContactIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200, examples=["Asha Rao"])
    phone: str | None = Field(
        None, max_length=32, description="Any format with country code; stored as E.164.", examples=["+14155550123"]
    )
    email: str | None = Field(None, max_length=254, examples=["asha@example.com"])
    optInWhatsApp: bool = False
    optInSms: bool = False
    optInEmail: bool = False


class ContactPatch(Schema):
    """Only the fields sent are changed; an opt-in changes only when sent explicitly."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    optInWhatsApp: bool | None = None
    optInSms: bool | None = None
    optInEmail: bool | None = None
    consentEvidence: str | None = Field(
        None,
        max_length=500,
        description=(
            "How the customer agreed to an opt-in this change sets, kept in the consent history. Required to opt"
            " SMS in again after the customer opted out (the number then leaves the SMS opt-out list)."
        ),
        examples=["customer asked by phone on 2026-11-30"],
    )


class ConsentOut(Schema):
    optedIn: bool
    changedBy: str | None = None
    changedAt: datetime | None = None
    source: str | None = None


class ContactOut(Schema):
    contactId: str
    name: str | None
    phone: str | None
    email: str | None
    whatsappUserId: str | None = Field(
        None,
        description=(
            "WhatsApp's business-scoped user id, for a customer who wrote with a username instead of a number; "
            "set only from WhatsApp."
        ),
    )
    optInWhatsApp: bool
    optInSms: bool
    optInEmail: bool
    consent: dict[str, ConsentOut]
    lastInboundMessageAt: datetime | None
    whatsappWindowExpiresAt: datetime | None = Field(
        description="When the 24-hour WhatsApp window closes; null when none is open."
    )
    createdAt: datetime
    updatedAt: datetime
    deletedAt: datetime | None

    @staticmethod
    def of(contact: Contact) -> ContactOut:
        consent = {}
        for channel in CHANNELS:
            record = contact.consent(channel)
            consent[channel] = ConsentOut(
                optedIn=contact.opted_in(channel),
                changedBy=record.changedBy if record else None,
                changedAt=record.changedAt if record else None,
                source=record.source if record else None,
            )
        return ContactOut(
            contactId=contact.contactId,
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            whatsappUserId=contact.whatsappUserId,
            optInWhatsApp=contact.optInWhatsApp,
            optInSms=contact.optInSms,
            optInEmail=contact.optInEmail,
            consent=consent,
            lastInboundMessageAt=contact.lastInboundMessageAt,
            whatsappWindowExpiresAt=contact.whatsapp_window_expires_at(),
            createdAt=contact.createdAt,
            updatedAt=contact.updatedAt,
            deletedAt=contact.deletedAt,
        )


class ConsentEventOut(Schema):
    channel: str
    optedIn: bool
    at: datetime
    actor: str = Field(description='A username, "customer", "provider" or "system".')
    source: str = Field(
        description="operator, api, import, keyword, template_button, unsubscribe_link, bounce, complaint or "
        "sms_optout_list."
    )
    detail: str = Field(description='The path\'s own name for itself: "page", "inbox", "csv:<import id>"...')
    evidence: dict = Field(description="What proves the change: a message id and keyword, an import id...")

    @staticmethod
    def of(event: ConsentEvent) -> ConsentEventOut:
        return ConsentEventOut(
            channel=event.channel,
            optedIn=event.optedIn,
            at=event.at,
            actor=event.actor,
            source=event.source,
            detail=event.detail,
            evidence=event.evidence,
        )


class ContactPage(Schema):
    items: list[ContactOut]
    nextCursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")


class ErrorOut(Schema):
    detail: str | list


class ConflictOut(Schema):
    detail: str
    field: str | None
