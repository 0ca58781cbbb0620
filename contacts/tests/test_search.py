import random

import pytest

from contacts import actions
from contacts.queries import search_contacts
from contacts.validation import WhatsAppIdentity

pytestmark = pytest.mark.django_db


@pytest.fixture
def mira(operator, new_phone, new_email):
    return actions.create_contact(
        {"name": "Mira Okonkwo-Search", "phone": new_phone(), "email": new_email()}, user=operator, source="test"
    )


def test_it_finds_by_exact_phone_in_any_format(mira):
    national_style = f"+1 ({mira.phone[2:5]}) {mira.phone[5:8]}-{mira.phone[8:]}"
    assert [c.contactId for c in search_contacts(national_style).items] == [mira.contactId]


def test_it_finds_by_email_ignoring_case(mira):
    assert [c.contactId for c in search_contacts(mira.email.upper()).items] == [mira.contactId]


def test_it_finds_by_part_of_the_name_ignoring_case(mira):
    found = search_contacts("okonkwo-sEARCH").items
    assert mira.contactId in [c.contactId for c in found]


def test_it_pages_with_a_cursor_and_no_offsets(operator, new_phone):
    tag = f"pagetag{new_phone()[-6:]}"
    ids = {
        actions.create_contact({"name": f"{tag} {i}", "phone": new_phone()}, user=operator, source="test").contactId
        for i in range(5)
    }
    first = search_contacts(tag, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    second = search_contacts(tag, cursor=first.next_cursor, limit=2)
    third = search_contacts(tag, cursor=second.next_cursor, limit=2)
    seen = [c.contactId for page in (first, second, third) for c in page.items]
    assert set(seen) == ids and len(seen) == 5


def test_the_digits_inside_a_word_are_not_a_phone_search(operator, new_phone):
    phone = new_phone()
    actions.create_contact({"name": "Digits Dora", "phone": phone}, user=operator, source="test")
    mixed = f"zz{phone[-4]}q{phone[-3:]}"  # the phone's last digits, scattered in a word
    assert search_contacts(mixed).items == []
    assert phone in [c.phone for c in search_contacts(phone[-7:]).items]


@pytest.mark.parametrize("path", ["/contacts/", "/contacts/export.csv"])
def test_a_search_longer_than_the_box_allows_is_refused_with_the_limit(client_for, viewer, path):
    response = client_for(viewer).get(path, {"q": "a" * 100_000})
    assert response.status_code == 400
    assert response.content.decode() == "Search text is longer than 200 characters: shorten it."
    assert client_for(viewer).get(path, {"q": "a" * 200}).status_code == 200


def test_it_finds_a_username_customer_by_their_whatsapp_user_id(operator):
    user_id = f"US.{random.getrandbits(60)}"
    uma = actions.create_contact(
        {"name": "Uma Username"}, user=None, source="test", whatsapp=WhatsAppIdentity(user_id=user_id)
    )
    assert [c.contactId for c in search_contacts(user_id).items] == [uma.contactId]
    assert search_contacts(f"US.{random.getrandbits(60)}").items == []
