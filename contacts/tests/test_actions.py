"""Rules of contacts: validation, uniqueness, consent records, soft delete and restore."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from contacts import actions, queries
from contacts.models import Contact, ContactUniqueKey
from contacts.queries import find_live_by_phone, list_contacts, search_contacts
from wecare.errors import Conflict, FieldErrors, NotFound

pytestmark = pytest.mark.django_db


def test_it_requires_a_phone_or_an_email(operator):
    with pytest.raises(FieldErrors) as caught:
        actions.create_contact({"name": "No Address"}, user=operator, source="test")
    assert set(caught.value.errors) == {"phone", "email"}


def test_it_normalises_phone_to_e164_and_lowercases_email(operator):
    contact = actions.create_contact(
        {"phone": "+1 (415) 555-2671", "email": " Asha.Rao@Example.COM "}, user=operator, source="test"
    )
    try:
        assert contact.phone == "+14155552671"
        assert contact.email == "asha.rao@example.com"
    finally:
        actions.delete_contact(contact.contactId, user=operator)


def test_it_names_the_field_that_is_invalid(operator):
    with pytest.raises(FieldErrors) as caught:
        actions.create_contact({"phone": "12345", "email": "not-an-email"}, user=operator, source="test")
    assert "phone" in caught.value.errors and "international format" in caught.value.errors["phone"]
    assert "email" in caught.value.errors


def test_opt_ins_default_to_false_and_record_who_when_and_source(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="page")
    assert (contact.optInWhatsApp, contact.optInSms, contact.optInEmail) == (False, True, False)
    assert contact.consentWhatsApp is None
    assert contact.consentSms.changedBy == operator.username and contact.consentSms.source == "page"


def test_an_update_without_opt_in_fields_leaves_consent_alone(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="api")
    updated = actions.update_contact(contact.contactId, {"name": "Renamed"}, user=operator, source="api")
    assert updated.optInWhatsApp is True
    assert updated.consentWhatsApp.changedAt == contact.consentWhatsApp.changedAt


def test_an_explicit_opt_out_is_recorded(operator, admin_user, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="api")
    updated = actions.update_contact(contact.contactId, {"optInWhatsApp": False}, user=admin_user, source="page")
    assert updated.optInWhatsApp is False
    assert updated.consentWhatsApp.changedBy == admin_user.username and updated.consentWhatsApp.source == "page"


def test_a_live_phone_cannot_be_used_twice(operator, new_phone):
    phone = new_phone()
    actions.create_contact({"phone": phone}, user=operator, source="test")
    with pytest.raises(Conflict) as caught:
        actions.create_contact({"phone": phone, "name": "Second"}, user=operator, source="test")
    assert caught.value.field == "phone"


def test_two_concurrent_creates_with_one_phone_leave_exactly_one_contact(operator, new_phone):
    phone = new_phone()

    def create(i: int):
        try:
            return actions.create_contact({"phone": phone, "name": f"racer {i}"}, user=operator, source="test")
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(8)))
    created = [o for o in outcomes if isinstance(o, Contact)]
    assert len(created) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if o is not created[0])
    assert [c.contactId for c in Contact.by_phone.query(phone)] == [created[0].contactId]


def test_changing_the_phone_moves_its_unique_key(operator, new_phone):
    old, new = new_phone(), new_phone()
    contact = actions.create_contact({"phone": old}, user=operator, source="test")
    actions.update_contact(contact.contactId, {"phone": new}, user=operator, source="test")
    assert ContactUniqueKey.get(ContactUniqueKey.for_phone(new)).contactId == contact.contactId
    with pytest.raises(ContactUniqueKey.DoesNotExist):
        ContactUniqueKey.get(ContactUniqueKey.for_phone(old))
    # the old number is free again
    actions.create_contact({"phone": old}, user=operator, source="test")


def test_taking_another_contacts_email_is_a_conflict_and_changes_nothing(operator, new_phone, new_email):
    email = new_email()
    actions.create_contact({"email": email}, user=operator, source="test")
    other = actions.create_contact({"phone": new_phone(), "name": "Other"}, user=operator, source="test")
    with pytest.raises(Conflict):
        actions.update_contact(other.contactId, {"email": email, "name": "Changed"}, user=operator, source="test")
    assert queries.get_contact(other.contactId).name == "Other"


def test_soft_delete_hides_the_contact_and_frees_its_phone(operator, new_phone):
    phone = new_phone()
    contact = actions.create_contact({"phone": phone, "name": "Gone Soon"}, user=operator, source="test")
    deleted = actions.delete_contact(contact.contactId, user=operator)
    assert deleted.deletedAt is not None
    with pytest.raises(NotFound):
        queries.get_contact(contact.contactId)
    assert find_live_by_phone(phone) is None
    assert contact.contactId not in [c.contactId for c in list_contacts(limit=200).items]
    assert search_contacts(phone).items == []


def test_an_admin_restores_a_deleted_contact(operator, admin_user, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="test")
    actions.delete_contact(contact.contactId, user=operator)
    restored = actions.restore_contact(contact.contactId, user=admin_user)
    assert restored.deletedAt is None and restored.liveList == "LIVE"
    assert find_live_by_phone(contact.phone).contactId == contact.contactId


def test_restore_is_refused_when_the_phone_was_taken_meanwhile(operator, admin_user, new_phone):
    phone = new_phone()
    first = actions.create_contact({"phone": phone}, user=operator, source="test")
    actions.delete_contact(first.contactId, user=operator)
    actions.create_contact({"phone": phone}, user=operator, source="test")
    with pytest.raises(Conflict):
        actions.restore_contact(first.contactId, user=admin_user)
    assert queries.get_contact(first.contactId, include_deleted=True).is_deleted


def test_updating_a_deleted_contact_is_not_found(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="test")
    actions.delete_contact(contact.contactId, user=operator)
    with pytest.raises(NotFound):
        actions.update_contact(contact.contactId, {"name": "x"}, user=operator, source="test")
