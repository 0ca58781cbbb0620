"""Contacts made from WhatsApp: a number WhatsApp gave (which the rules for typed numbers may
call invalid) and a business-scoped user id in place of a number. People edit them like any
other contact."""

from __future__ import annotations

import pytest

from contacts import actions, queries
from contacts.models import ContactUniqueKey
from contacts.validation import WhatsAppIdentity
from wecare.dynamo import now
from wecare.errors import Conflict, FieldErrors, NotFound

pytestmark = pytest.mark.django_db
JSON = "application/json"


def unique(prefix: str, total: int) -> str:
    tail = str(int(now().timestamp() * 1_000_000))[-(total - len(prefix)) :]
    return f"{prefix}{tail}"


@pytest.fixture
def from_whatsapp():
    """A contact the inbound path made for +972 9…: a number libphonenumber calls invalid."""
    phone = "+" + unique("9729", 12)
    with pytest.raises(FieldErrors):  # what a person typing it would be told
        actions.create_contact({"phone": phone}, user=None, source="test")
    return actions.create_contact(
        {"name": "Dana"}, user=None, source="whatsapp-inbound", whatsapp=WhatsAppIdentity(phone=phone)
    )


@pytest.fixture
def username_contact():
    user_id = "US." + unique("1", 20)
    return actions.create_contact(
        {"name": "Sheena"}, user=None, source="whatsapp-inbound", whatsapp=WhatsAppIdentity(user_id=user_id)
    )


def test_the_api_patch_with_the_stored_number_sent_back_unchanged_is_accepted(client_for, operator, from_whatsapp):
    api = client_for(operator)
    url = f"/api/contacts/{from_whatsapp.contactId}"
    whole = {
        k: v
        for k, v in api.get(url).json().items()
        if k in ("name", "phone", "email", "optInWhatsApp", "optInSms", "optInEmail")
    }

    response = api.patch(url, {**whole, "name": "Dana Levi"}, content_type=JSON)

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["phone"]) == ("Dana Levi", from_whatsapp.phone)


def test_the_edit_page_accepts_the_stored_number_however_it_is_punctuated(client_for, operator, from_whatsapp):
    digits = from_whatsapp.phone[1:]
    typed = f"+{digits[:3]} {digits[3:5]}-{digits[5:8]} {digits[8:]}"
    page = client_for(operator)

    response = page.post(f"/contacts/{from_whatsapp.contactId}/edit/", {"name": "Dana L", "phone": typed, "email": ""})

    assert response.status_code == 302, response.content.decode()[:2000]
    contact = queries.get_contact(from_whatsapp.contactId)
    assert (contact.name, contact.phone) == ("Dana L", from_whatsapp.phone)


def test_another_number_that_is_invalid_is_still_refused(operator, from_whatsapp):
    other = from_whatsapp.phone[:-1] + str((int(from_whatsapp.phone[-1]) + 1) % 10)
    with pytest.raises(FieldErrors) as refused:
        actions.update_contact(from_whatsapp.contactId, {"phone": other}, user=operator, source="api")
    assert "not a valid phone number" in refused.value.errors["phone"]


def test_a_username_contact_is_shown_by_its_user_id_and_its_name_can_be_edited(client_for, operator, username_contact):
    page = client_for(operator)
    detail = page.get(f"/contacts/{username_contact.contactId}/").content.decode()
    assert username_contact.whatsappUserId in detail and "Sheena" in detail

    response = page.post(
        f"/contacts/{username_contact.contactId}/edit/", {"name": "Sheena K", "phone": "", "email": ""}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert queries.get_contact(username_contact.contactId).name == "Sheena K"
    assert (
        page.get(f"/api/contacts/{username_contact.contactId}").json()["whatsappUserId"]
        == username_contact.whatsappUserId
    )


def test_a_username_contact_keeps_its_user_id_key_until_deleted(operator, username_contact):
    key = ContactUniqueKey.for_whatsapp_user(username_contact.whatsappUserId)
    assert ContactUniqueKey.get(key, consistent_read=True).contactId == username_contact.contactId

    actions.delete_contact(username_contact.contactId, user=operator)
    with pytest.raises(ContactUniqueKey.DoesNotExist):
        ContactUniqueKey.get(key, consistent_read=True)
    actions.restore_contact(username_contact.contactId, user=operator)
    assert ContactUniqueKey.get(key, consistent_read=True).contactId == username_contact.contactId


# --- a contact learning its other WhatsApp identity from an inbound message -----------------

EVIDENCE = {"waMessageId": "wamid.TESTLINK"}


def test_a_username_contact_takes_the_number_with_its_unique_key(username_contact):
    phone = "+" + unique("9729", 12)  # as WhatsApp gave it: no validity rules

    linked = actions.add_whatsapp_identity(
        username_contact,
        WhatsAppIdentity(phone=phone, user_id=username_contact.whatsappUserId),
        source="whatsapp-inbound",
        evidence=EVIDENCE,
    )

    assert (linked.phone, linked.whatsappUserId) == (phone, username_contact.whatsappUserId)
    assert (
        ContactUniqueKey.get(ContactUniqueKey.for_phone(phone), consistent_read=True).contactId
        == username_contact.contactId
    )
    with pytest.raises(Conflict):  # the key is taken: no other live contact can have the number
        actions.create_contact({}, user=None, source="whatsapp-inbound", whatsapp=WhatsAppIdentity(phone=phone))


def test_a_number_or_id_the_contact_has_is_never_replaced(from_whatsapp):
    user_id = "US." + unique("2", 20)
    other_phone = "+" + unique("9728", 12)

    linked = actions.add_whatsapp_identity(
        from_whatsapp,
        WhatsAppIdentity(phone=other_phone, user_id=user_id),
        source="whatsapp-inbound",
        evidence=EVIDENCE,
    )

    assert (linked.phone, linked.whatsappUserId) == (from_whatsapp.phone, user_id)  # only the missing id
    with pytest.raises(ContactUniqueKey.DoesNotExist):
        ContactUniqueKey.get(ContactUniqueKey.for_phone(other_phone), consistent_read=True)


def test_a_link_made_meanwhile_by_another_message_is_no_conflict(username_contact):
    sender = WhatsAppIdentity(phone="+" + unique("9727", 12), user_id=username_contact.whatsappUserId)
    actions.add_whatsapp_identity(username_contact, sender, source="whatsapp-inbound", evidence=EVIDENCE)

    again = actions.add_whatsapp_identity(
        username_contact, sender, source="whatsapp-inbound", evidence=EVIDENCE
    )  # a stale read

    assert again.phone == sender.phone


def test_a_value_another_live_contact_holds_is_a_conflict_and_changes_nothing(username_contact, from_whatsapp):
    sender = WhatsAppIdentity(phone=from_whatsapp.phone, user_id=username_contact.whatsappUserId)

    with pytest.raises(Conflict) as refused:
        actions.add_whatsapp_identity(username_contact, sender, source="whatsapp-inbound", evidence=EVIDENCE)

    assert refused.value.field == "phone"
    assert queries.get_contact(username_contact.contactId).phone is None
    assert (
        ContactUniqueKey.get(ContactUniqueKey.for_phone(from_whatsapp.phone), consistent_read=True).contactId
        == from_whatsapp.contactId
    )


def test_a_contact_deleted_meanwhile_learns_nothing(operator, username_contact):
    actions.delete_contact(username_contact.contactId, user=operator)
    phone = "+" + unique("9726", 12)

    with pytest.raises(NotFound):
        actions.add_whatsapp_identity(
            username_contact, WhatsAppIdentity(phone=phone), source="whatsapp-inbound", evidence=EVIDENCE
        )

    with pytest.raises(ContactUniqueKey.DoesNotExist):
        ContactUniqueKey.get(ContactUniqueKey.for_phone(phone), consistent_read=True)
