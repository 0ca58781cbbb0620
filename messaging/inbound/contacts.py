"""Who wrote to us: the sender's contact, found or created, and their 24-hour window.

A sender is who WhatsApp says it is (``contacts.validation.WhatsAppIdentity``): the number it
verified, stored as given (no phone-number validity rules: those are for numbers people type),
and/or the business-scoped user id Meta sends for a customer who hides their number behind a
username. The contact is found by the number first, then by the user id, and learns the one
of the two it lacks when a message carries both (``link``), so a customer who later writes with
only one of them is still the same contact.

A new sender becomes a contact with every opt-in false: writing to a business is not consent
to be messaged (the inbox offers an explicit, audited consent action for that). Creation goes
through ``contacts.actions.create_contact``, so the unique keys make two simultaneous first
messages from one sender produce one contact: the loser of the race reads the winner's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from contacts.actions import add_whatsapp_identity, create_contact
from contacts.models import Contact, ContactUniqueKey
from contacts.queries import holder_of
from contacts.validation import WhatsAppIdentity
from wecare.dynamo import update_if
from wecare.errors import Conflict, FieldErrors, NotFound

log = logging.getLogger(__name__)
SOURCE = "whatsapp-inbound"


def _holder(unique_key: str) -> Contact | None:
    """Read through the key, strongly consistent (unlike the phone GSI), so a contact created a
    moment ago by a racing worker is seen."""
    return holder_of(unique_key, consistent_read=True)


def find(sender: WhatsAppIdentity) -> Contact | None:
    """The live contact of this sender: by the number WhatsApp gave, else by the user id."""
    keys = []
    if sender.phone:
        keys.append(ContactUniqueKey.for_phone(sender.phone))
    if sender.user_id:
        keys.append(ContactUniqueKey.for_whatsapp_user(sender.user_id))
    return next((contact for key in keys if (contact := _holder(key)) is not None), None)


def find_or_create(sender: WhatsAppIdentity, name: str | None, *, wa_message_id: str) -> tuple[Contact, bool]:
    """(contact, created). Never changes the opt-ins of an existing contact."""
    data = {"name": name} if name else {}
    contact, created = create_once(lambda: find(sender), data, source=SOURCE, whatsapp=sender)
    return (contact if created else link(contact, sender, wa_message_id=wa_message_id)), created


def create_once(
    found: Callable[[], Contact | None],
    data: dict[str, Any],
    *,
    source: str,
    whatsapp: WhatsAppIdentity | None = None,
) -> tuple[Contact, bool]:
    """(contact, created): the contact ``found`` reads, else a new one from ``data`` with every
    opt-in false. Two first messages racing make one contact: the loser's create is refused by
    the unique keys (Conflict) and it reads the winner's. A name we cannot store (too long…) is
    left out rather than lose the message."""
    contact = found()
    if contact is not None:
        return contact, False
    try:
        try:
            return create_contact(data, user=None, source=source, whatsapp=whatsapp), True
        except FieldErrors as exc:
            if "name" not in exc.errors or "name" not in data:
                raise
            without_name = {key: value for key, value in data.items() if key != "name"}
            return create_contact(without_name, user=None, source=source, whatsapp=whatsapp), True
    except Conflict:
        contact = found()  # another worker created it between our read and our write
        if contact is None:
            raise
        return contact, False


def link(contact: Contact, sender: WhatsAppIdentity, *, wa_message_id: str) -> Contact:
    """The contact, having learnt the sender's number or user id it lacked (audited, the message
    as evidence). When another live contact holds that value, nothing is merged: the message
    stays with the contact found first and a warning says which two a person may want to join."""
    try:
        return add_whatsapp_identity(contact, sender, source=SOURCE, evidence={"waMessageId": wa_message_id})
    except (Conflict, NotFound) as exc:
        field = getattr(exc, "field", None)
        value = {"phone": sender.phone, "whatsappUserId": sender.user_id}.get(field or "")
        holder = _holder(ContactUniqueKey.for_field(field, value)) if field and value else None
        log.warning(
            "whatsapp identity not linked",
            extra={
                "contact_id": contact.contactId,
                "other_contact_id": holder and holder.contactId,
                "wa_message_id": wa_message_id,
                "reason": str(exc),
            },
        )
        return contact


def open_window(contact_id: str, at: datetime) -> bool:
    """Record an inbound message at ``at`` as the contact's lastInboundMessageAt, only forward:
    a late or replayed older event never shortens the window. True if it moved."""
    condition = Contact.lastInboundMessageAt.does_not_exist() | (Contact.lastInboundMessageAt < at)
    return update_if(
        Contact(contactId=contact_id),
        actions=[Contact.lastInboundMessageAt.set(at)],
        condition=Contact.contactId.exists() & condition,
    )


def find_or_create_by_number(number: str, *, source: str) -> tuple[Contact, bool]:
    """(contact, created) for a customer known only by the number a carrier delivered their message
    from (two-way SMS). Like a WhatsApp sender's, the number is stored as given: the carrier
    reached it, so the rules for numbers people type do not judge it. A new contact has every
    opt-in false; an existing one keeps its opt-ins."""
    key = ContactUniqueKey.for_phone(number)
    return create_once(lambda: _holder(key), {}, source=source, whatsapp=WhatsAppIdentity(phone=number))


def find_or_create_by_email(address: str, name: str | None, *, source: str) -> Contact:
    """The live contact with this email (inbound mail), else a new one with every opt-in false:
    writing to us is not consent to be messaged, and an existing contact's consent is never
    changed here."""
    key = ContactUniqueKey.for_email(address)
    data = {"email": address, **({"name": name} if name else {})}
    return create_once(lambda: _holder(key), data, source=source)[0]
