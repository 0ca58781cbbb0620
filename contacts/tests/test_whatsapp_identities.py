"""Contacts made from WhatsApp: a number WhatsApp gave (which the rules for typed numbers may
call invalid) and a business-scoped user id in place of a number. People edit them like any
other contact."""

from __future__ import annotations

import pytest

from contacts import actions
from contacts.models import ContactUniqueKey
from contacts.validation import WhatsAppIdentity
from wecare.dynamo import now
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db
JSON = "application/json"


def unique(prefix: str, total: int) -> str:
    tail = str(int(now().timestamp() * 1_000_000))[-(total - len(prefix)):]
    return f"{prefix}{tail}"


@pytest.fixture
def from_whatsapp():
    """A contact the inbound path made for +972 9…: a number libphonenumber calls invalid."""
    phone = "+" + unique("9729", 12)
    with pytest.raises(FieldErrors):  # what a person typing it would be told
        actions.create_contact({"phone": phone}, user=None, source="test")
    return actions.create_contact({"name": "Dana"}, user=None, source="whatsapp-inbound", whatsapp=WhatsAppIdentity(phone=phone))


@pytest.fixture
def username_contact():
    user_id = "US." + unique("1", 20)
    return actions.create_contact({"name": "Sheena"}, user=None, source="whatsapp-inbound", whatsapp=WhatsAppIdentity(user_id=user_id))


def test_the_api_patch_with_the_stored_number_sent_back_unchanged_is_accepted(client_for, operator, from_whatsapp):
    api = client_for(operator)
    url = f"/api/contacts/{from_whatsapp.contactId}"
    whole = {k: v for k, v in api.get(url).json().items() if k in ("name", "phone", "email", "optInWhatsApp", "optInSms", "optInEmail")}

    response = api.patch(url, {**whole, "name": "Dana Levi"}, content_type=JSON)

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["phone"]) == ("Dana Levi", from_whatsapp.phone)


def test_the_edit_page_accepts_the_stored_number_however_it_is_punctuated(client_for, operator, from_whatsapp):
    digits = from_whatsapp.phone[1:]
    typed = f"+{digits[:3]} {digits[3:5]}-{digits[5:8]} {digits[8:]}"
    page = client_for(operator)

    response = page.post(f"/contacts/{from_whatsapp.contactId}/edit/", {"name": "Dana L", "phone": typed, "email": ""})

    assert response.status_code == 302, response.content.decode()[:2000]
    contact = actions.get_contact(from_whatsapp.contactId)
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

    response = page.post(f"/contacts/{username_contact.contactId}/edit/", {"name": "Sheena K", "phone": "", "email": ""})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert actions.get_contact(username_contact.contactId).name == "Sheena K"
    assert page.get(f"/api/contacts/{username_contact.contactId}").json()["whatsappUserId"] == username_contact.whatsappUserId


def test_a_username_contact_keeps_its_user_id_key_until_deleted(operator, username_contact):
    key = ContactUniqueKey.for_whatsapp_user(username_contact.whatsappUserId)
    assert ContactUniqueKey.get(key, consistent_read=True).contactId == username_contact.contactId

    actions.delete_contact(username_contact.contactId, user=operator)
    with pytest.raises(ContactUniqueKey.DoesNotExist):
        ContactUniqueKey.get(key, consistent_read=True)
    actions.restore_contact(username_contact.contactId, user=operator)
    assert ContactUniqueKey.get(key, consistent_read=True).contactId == username_contact.contactId
