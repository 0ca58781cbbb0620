"""Which conversation a customer's messages belong in: one per customer and business number
(docs/design/inbound.md, "One customer, one contact, one conversation per business number").

A conversation is keyed by one identity of the customer, ``CONV#<suffix>#<number>`` or
``CONV#<suffix>#<BSUID>``, and WhatsApp may name one customer by their number, by their
business-scoped user id, or by both. The key stays the identity the conversation was started
under: a customer's messages, inbound and outbound, go to the conversation that already exists
under any of their identities (number first), and only a customer with none starts one, under
the number if known, else the user id.
"""

from __future__ import annotations

from collections.abc import Iterable

from contacts.models import Contact
from messaging.whatsapp_table import WaConversation


def identities(contact: Contact) -> tuple[str, ...]:
    """The contact's WhatsApp identities, number first (the order a new conversation prefers)."""
    return tuple(value for value in (contact.phone, contact.whatsappUserId) if value)


def locate(business_suffix: str, customer: Iterable[str | None]) -> tuple[str, bool]:
    """(conversation key, whether it exists): the first of the customer's identities that has a
    conversation with this business number, else a new one under the first identity."""
    keys = [WaConversation.key(business_suffix, who) for who in _distinct(customer)]
    return next(((pk, True) for pk in keys if exists(pk)), (keys[0], False))


def key_for(business_suffix: str, customer: Iterable[str | None]) -> str:
    """The conversation key alone; a customer with one identity costs no read."""
    known = _distinct(customer)
    return WaConversation.key(business_suffix, known[0]) if len(known) == 1 else locate(business_suffix, known)[0]


def exists(pk: str) -> bool:
    try:
        WaConversation.get(pk, consistent_read=True, attributes_to_get=["pk"])
    except WaConversation.DoesNotExist:
        return False
    return True


def _distinct(customer: Iterable[str | None]) -> list[str]:
    known = list(dict.fromkeys(who for who in customer if who))
    if not known:
        raise ValueError("a conversation needs the customer's number or user id")
    return known
