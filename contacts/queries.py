"""Reading contacts: lists and search, all with opaque cursors (never offsets). An exact phone,
email or WhatsApp user id is one read; anything else is a substring match over live contacts that
reads at most ``MAX_SCANNED`` items a request. Why, and where it stops scaling:
docs/design/contacts.md.
"""

from __future__ import annotations

from typing import Literal

from contacts.models import CHANNELS, LIVE, ConsentEvent, Contact, ContactUniqueKey
from contacts.validation import InvalidValue, normalise_email, normalise_phone, whatsapp_user_id
from wecare.dynamo import Cursor, Page, filtered_page
from wecare.errors import NotFound

MAX_SCANNED = 2000
# As the API's ?q= allows: a search is a name, a number or an address, and DynamoDB bounds the
# size of a filter's operands.
MAX_QUERY = 200
PAGE_SIZE = 50
LIVE_LIST = "contacts-live"  # the cursor scope of the liveList index (list and search alike)


def list_contacts(*, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page[Contact]:
    results = Contact.live.query(
        LIVE, scan_index_forward=False, limit=limit, last_evaluated_key=Cursor.decode(cursor, scope=LIVE_LIST)
    )
    items = list(results)
    return Page(
        items, Cursor.encode(results.last_evaluated_key, scope=LIVE_LIST) if len(items) == limit else None, len(items)
    )


def find_live_by_phone(phone: str) -> Contact | None:
    return next((c for c in Contact.by_phone.query(phone) if not c.is_deleted), None)


def find_live_by_whatsapp_user(user_id: str) -> Contact | None:
    """The live contact WhatsApp names by this business-scoped user id (through its unique key:
    there is no index on the id)."""
    return holder_of(ContactUniqueKey.for_whatsapp_user(user_id))


def holder_of(unique_key: str, *, consistent_read: bool = False) -> Contact | None:
    """The live contact holding this unique key (only a live contact holds one). With
    ``consistent_read``, also one created a moment ago, which the phone and email indexes may
    not show yet."""
    try:
        key = ContactUniqueKey.get(unique_key, consistent_read=consistent_read)
        contact = Contact.get(key.contactId, consistent_read=consistent_read)
    except (ContactUniqueKey.DoesNotExist, Contact.DoesNotExist):
        return None
    return None if contact.is_deleted else contact


def find_live_by_email(email: str) -> Contact | None:
    return next((c for c in Contact.by_email.query(email) if not c.is_deleted), None)


def _looks_like_phone(q: str) -> bool:
    """Digits with phone punctuation only ("+1 (415) 555-0123", "555 01"): the digits inside a
    word ("Raman 3e5a") are not a phone number, and searching them would find unrelated contacts."""
    return any(ch.isdigit() for ch in q) and all(ch.isdigit() or ch in " +-()." for ch in q)


def _exact_match(q: str) -> Contact | Literal[False] | None:
    """The contact an exact phone, email or WhatsApp user id names; False when q is none of them."""
    if whatsapp_user_id(q) == q:
        return find_live_by_whatsapp_user(q)
    if "@" in q:
        try:
            return find_live_by_email(normalise_email(q))
        except InvalidValue:
            return False
    if _looks_like_phone(q) and sum(ch.isdigit() for ch in q) >= 6:
        try:
            return find_live_by_phone(normalise_phone(q))
        except InvalidValue:
            return False
    return False


def search_contacts(q: str, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page[Contact]:
    q = q.strip()
    if not q:
        return list_contacts(cursor=cursor, limit=limit)
    if cursor is None:
        exact = _exact_match(q)
        if exact is not False:
            return Page([exact] if exact else [], None, 1)
    needle = q.lower()
    digits = "".join(ch for ch in q if ch.isdigit()) if _looks_like_phone(q) else ""
    condition = Contact.nameLower.contains(needle) | Contact.email.contains(needle)
    if digits:
        condition = condition | Contact.phone.contains(digits)
    pages = Contact.live.query(
        LIVE,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=Cursor.decode(cursor, scope=LIVE_LIST),
        page_size=200,
    ).page_iter
    return filtered_page(pages, Contact, limit=limit, scope=LIVE_LIST, max_scanned=MAX_SCANNED)


def get_contact(contact_id: str, *, include_deleted: bool = False) -> Contact:
    """A contact by id, read consistently; NotFound (404) if there is none or it is deleted
    (unless ``include_deleted``)."""
    try:
        contact = Contact.get(contact_id, consistent_read=True)
    except Contact.DoesNotExist:
        raise NotFound(f"no contact with id {contact_id}") from None
    if contact.is_deleted and not include_deleted:
        raise NotFound(f"contact {contact_id} is deleted")
    return contact


def consent_history(contact_id: str, channel: str | None = None) -> list[ConsentEvent]:
    """A contact's consent events, newest first: one channel's (a key prefix) or every channel's.
    A contact's history is short (a change is a person's or customer's decision), so it is read
    whole."""
    if channel is None:
        events = list(ConsentEvent.query(contact_id, consistent_read=True))
        return sorted(events, key=lambda e: e.eventKey.partition("#")[2], reverse=True)
    if channel not in CHANNELS:
        raise NotFound(f"no channel {channel}")
    return list(
        ConsentEvent.query(
            contact_id,
            ConsentEvent.eventKey.startswith(f"{channel}#"),
            scan_index_forward=False,
            consistent_read=True,
        )
    )
