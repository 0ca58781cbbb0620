"""A contact's name is visible text on every path: the page, the API, a CSV import and a WhatsApp
profile name. Control characters, invisible spaces and bidi overrides are dropped; the joiners
Indic scripts and emoji need are kept."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contacts import actions, imports, queries
from contacts.validation import normalise_name
from messaging.inbound.process import process_inbound_event
from messaging.tests.inbound_samples import inbound
from wecare.tests.naming import unique_name

pytestmark = pytest.mark.django_db

STRIPPED = {
    chr(c)
    for c in [*range(0x20), *range(0x7F, 0xA0), 0x200B, 0x2060, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}
LONE_SURROGATES = {chr(c) for c in range(0xD800, 0xE000)}  # parsed JSON can hold one; UTF-8 cannot
JOINERS = "\u200c\u200d"
NAME_PARTS = st.sampled_from(
    sorted(STRIPPED) + list(JOINERS) + ["\ud83d", "\udc69", " ", "\u00a0", "\u2028", "a", "क्", "👩", "Ø"]
)
NAMES = st.lists(st.one_of(NAME_PARTS, st.characters(exclude_categories=["Cs"])), max_size=40).map("".join)
SPOOF = "Asha\u202e\u2066 Rao\u200b\u0007\u0085\ufeff"


@given(NAMES)
@example("\u202eexe.fdp")
@example("क्\u200dष 👩\u200d💻")
def test_a_name_keeps_every_visible_character_and_loses_the_invisible_ones(raw):
    name = normalise_name(raw)
    assert not (STRIPPED | LONE_SURROGATES) & set(name)
    assert name == name.strip() and "  " not in name and not any(ch.isspace() and ch != " " for ch in name)
    visible = [ch for ch in raw if ch not in STRIPPED | LONE_SURROGATES and not ch.isspace()]
    assert [ch for ch in name if ch != " "] == visible  # in order, joiners included
    assert normalise_name(name) == name


def test_whitespace_controls_separate_words_rather_than_join_them():
    assert normalise_name("Asha\tRao\r\nK") == "Asha Rao K"
    assert normalise_name("Asha\u0000Rao") == "AshaRao"


def test_the_page_and_the_api_store_the_visible_name(client_for, operator, new_phone):
    client = client_for(operator)
    page_name, api_name = unique_name("Page"), unique_name("Api")
    response = client.post("/contacts/new/", {"name": f"\u202e{page_name}\u2069", "phone": new_phone()})
    assert response.status_code == 302
    response = client.post(
        "/api/contacts", {"name": f"\ufeff{api_name}\u200b", "phone": new_phone()}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["name"] == api_name
    contact_id = response.json()["contactId"]
    assert [c.name for c in queries.search_contacts(page_name).items] == [page_name]
    response = client.patch(
        f"/api/contacts/{contact_id}", {"name": f"{api_name}\u202d"}, content_type="application/json"
    )
    assert response.json()["name"] == api_name  # the same name: nothing changed


def test_a_name_of_only_invisible_characters_is_no_name(operator, new_phone):
    contact = actions.create_contact({"name": "\u200b\u202e\u0000", "phone": new_phone()}, user=operator, source="test")
    assert contact.name is None and contact.nameLower is None


def test_a_csv_import_stores_the_visible_name(operator, new_phone):
    name = unique_name("Imported")
    phone = new_phone()
    job = imports.start_import(f"name,phone\n\u202e{name}\u0085,{phone}\n".encode(), user=operator)
    assert imports.get_import(job.importId).createdCount == 1
    assert queries.find_live_by_phone(phone).name == name


def test_a_whatsapp_profile_name_becomes_the_visible_name(fake_aws, new_phone):
    phone = new_phone()
    body, _ = inbound("inbound_text", phone=phone, name_on_profile=SPOOF)
    process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-test"}, throw=True)
    assert queries.find_live_by_phone(phone).name == "Asha Rao"
