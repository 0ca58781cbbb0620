"""Who wrote to us: the sender's contact, found by phone or created, and their 24-hour window.

A new number becomes a contact with every opt-in false: writing to a business is not consent
to be messaged (the inbox offers an explicit, audited consent action for that). Creation goes
through ``contacts.actions.create_contact``, so the phone's unique key makes two simultaneous
first messages from one number produce one contact: the loser of the race reads the winner's.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pynamodb.exceptions import UpdateError

from contacts.actions import create_contact
from contacts.models import Contact, ContactUniqueKey
from contacts.validation import InvalidValue, normalise_phone
from wecare.errors import Conflict, FieldErrors

log = logging.getLogger(__name__)
SOURCE = "whatsapp-inbound"


class UnknownSender(ValueError):
    """The sender's number cannot be a contact (not a valid phone number): a permanent error."""


def _holder(phone: str) -> Contact | None:
    """The live contact holding this phone, read through its unique key (strongly consistent,
    unlike the phone GSI, so a contact created a moment ago by a racing worker is seen)."""
    try:
        key = ContactUniqueKey.get(ContactUniqueKey.for_phone(phone), consistent_read=True)
        return Contact.get(key.contactId, consistent_read=True)
    except (ContactUniqueKey.DoesNotExist, Contact.DoesNotExist):
        return None


def find_or_create(phone: str, name: str | None) -> tuple[Contact, bool]:
    """(contact, created). Never changes the opt-ins of an existing contact."""
    try:
        phone = normalise_phone(phone)  # the same form the unique key was written in
    except InvalidValue as exc:
        raise UnknownSender(str(exc)) from None
    contact = _holder(phone)
    if contact is not None:
        return contact, False
    data = {"phone": phone, "name": name} if name else {"phone": phone}
    try:
        try:
            return create_contact(data, user=None, source=SOURCE), True
        except FieldErrors as exc:
            if "name" not in exc.errors or "phone" in exc.errors:
                raise
            # A profile name we cannot store (too long…) must not lose the message: go without.
            return create_contact({"phone": phone}, user=None, source=SOURCE), True
    except Conflict:
        contact = _holder(phone)  # another worker created it between our read and our write
        if contact is None:
            raise
        return contact, False
    except FieldErrors as exc:
        raise UnknownSender(f"{phone}: {exc.errors}") from None


def open_window(contact_id: str, at: datetime) -> bool:
    """Record an inbound message at ``at`` as the contact's lastInboundMessageAt, only forward:
    a late or replayed older event never shortens the window. True if it moved."""
    condition = Contact.lastInboundMessageAt.does_not_exist() | (Contact.lastInboundMessageAt < at)
    try:
        Contact(contactId=contact_id).update(
            actions=[Contact.lastInboundMessageAt.set(at)],
            condition=Contact.contactId.exists() & condition,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
