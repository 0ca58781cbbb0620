"""Consent history: every path that changes an opt-in writes its event in the same transaction,
the contact page shows it per channel, and it exports as CSV for an audit."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contacts import actions, consent, imports, queries
from contacts.models import CHANNELS, ConsentEvent, Contact
from contacts.queries import find_live_by_phone
from wecare import safe_csv
from wecare.errors import NotFound
from wecare.tests.hypothesis_profiles import examples

pytestmark = pytest.mark.django_db

JSON = "application/json"


def history(contact_id: str, channel: str | None = None) -> list[ConsentEvent]:
    return queries.consent_history(contact_id, channel)


def agrees(contact_id: str) -> bool:
    """Each channel's newest event says what the contact's opt-in says (none: never opted in)."""
    stored = Contact.get(contact_id, consistent_read=True)
    return all(
        (events[0].optedIn if (events := history(contact_id, channel)) else False) == stored.opted_in(channel)
        for channel in CHANNELS
    )


# --- every existing path writes its event ----------------------------------------------------


def test_the_contact_form_writes_an_operator_event_for_a_ticked_box_only(client_for, operator, new_phone):
    phone = new_phone()
    response = client_for(operator).post("/contacts/new/", {"phone": phone, "optInSms": "on"})
    assert response.status_code == 302
    contact = find_live_by_phone(phone)
    [event] = history(contact.contactId)
    assert (event.channel, event.optedIn, event.actor, event.source, event.detail) == (
        "sms",
        True,
        operator.username,
        "operator",
        "page",
    )
    assert event.at == contact.consentSms.changedAt


def test_editing_a_contact_writes_an_event_per_changed_opt_in(client_for, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="page")
    response = client_for(operator).post(
        f"/contacts/{contact.contactId}/edit/", {"phone": contact.phone, "optInWhatsApp": "on"}
    )
    assert response.status_code == 302
    assert [(e.channel, e.optedIn) for e in history(contact.contactId, "whatsapp")] == [("whatsapp", True)]
    assert [(e.optedIn, e.detail) for e in history(contact.contactId, "sms")] == [(False, "page"), (True, "page")]
    assert agrees(contact.contactId)


def test_the_api_writes_api_events_and_a_change_of_nothing_writes_none(client_for, operator, new_phone):
    api = client_for(operator)
    created = api.post("/api/contacts", {"phone": new_phone(), "optInEmail": False}, content_type=JSON).json()
    contact_id = created["contactId"]
    assert [(e.channel, e.optedIn, e.source) for e in history(contact_id)] == [("email", False, "api")]
    assert api.patch(f"/api/contacts/{contact_id}", {"optInEmail": True}, content_type=JSON).status_code == 200
    assert api.patch(f"/api/contacts/{contact_id}", {"optInEmail": True}, content_type=JSON).status_code == 200
    assert [(e.optedIn, e.source, e.actor) for e in history(contact_id, "email")] == [
        (True, "api", operator.username),
        (False, "api", operator.username),
    ]


def test_a_csv_import_writes_import_events_naming_the_file(operator, new_phone):
    phone = new_phone()
    job = imports.start_import(f"name,phone,optInWhatsApp,optInSms\nImported,{phone},yes,no\n".encode(), user=operator)
    contact = find_live_by_phone(phone)
    events = {e.channel: e for e in history(contact.contactId)}
    assert set(events) == {"whatsapp", "sms"}
    assert all(e.source == "import" and e.evidence == {"importId": job.importId} for e in events.values())
    assert (events["whatsapp"].optedIn, events["sms"].optedIn) == (True, False)
    assert agrees(contact.contactId)


# --- change(): one channel, one transaction --------------------------------------------------


def test_a_customer_keyword_withdraws_consent_with_its_evidence(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="api")
    evidence = {"messageId": "wamid.STOP1", "keyword": "STOP"}
    updated = consent.change(contact, "whatsapp", False, source="keyword", actor=consent.CUSTOMER, evidence=evidence)
    assert updated.optInWhatsApp is False
    assert (updated.consentWhatsApp.changedBy, updated.consentWhatsApp.source) == ("customer", "keyword")
    newest = history(contact.contactId, "whatsapp")[0]
    assert (newest.optedIn, newest.actor, newest.source, newest.evidence) == (False, "customer", "keyword", evidence)
    assert agrees(contact.contactId)


def test_the_same_change_twice_writes_one_event(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="api")
    for _ in range(2):
        contact = consent.change(
            contact, "sms", False, source="sms_optout_list", actor=consent.PROVIDER, evidence={"number": contact.phone}
        )
    assert [e.source for e in history(contact.contactId, "sms")] == ["sms_optout_list", "api"]


def test_a_stale_copy_rereads_and_the_history_still_agrees(operator, admin_user, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInEmail": True}, user=operator, source="api")
    stale = Contact.get(contact.contactId, consistent_read=True)
    actions.update_contact(contact.contactId, {"optInEmail": False}, user=admin_user, source="page")
    # The copy says opted in; the stored contact says out. The conditional update refuses the
    # stale copy, change() re-reads, finds the value already false and writes nothing more.
    consent.change(stale, "email", False, source="bounce", actor=consent.PROVIDER, evidence={"feedbackId": "f-1"})
    assert [e.source for e in history(contact.contactId, "email")] == ["operator", "api"]
    assert agrees(contact.contactId)


def test_nothing_is_written_for_a_deleted_contact(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="api")
    actions.delete_contact(contact.contactId, user=operator)
    with pytest.raises(NotFound):
        actions.update_contact(contact.contactId, {"optInSms": True}, user=operator, source="api")
    with pytest.raises(NotFound):
        consent.change(contact, "sms", True, source="operator", actor=operator, evidence={})
    assert history(contact.contactId) == []


def test_an_unknown_source_is_refused_before_anything_is_written(operator, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="api")
    with pytest.raises(ValueError, match="unknown consent source"):
        consent.change(contact, "sms", True, source="guess", actor=operator, evidence={})
    assert history(contact.contactId) == [] and not Contact.get(contact.contactId, consistent_read=True).optInSms


# Each example writes to moto over HTTP: a modest count, scaled by the profile like the others.
@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(CHANNELS), st.booleans(), st.sampled_from(("change", "update"))),
        min_size=1,
        max_size=6,
    )
)
# Always tried: a customer's SMS STOP, then a person opting them in again (needs the note).
@example(steps=[("sms", True, "change"), ("sms", False, "change"), ("sms", True, "update")])
def test_any_sequence_of_changes_leaves_opt_ins_and_history_in_agreement(operator, new_phone, fake_aws, steps):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="api")
    expected_events = 0
    state = dict.fromkeys(CHANNELS, False)
    for channel, value, path in steps:
        if path == "change":
            contact = consent.change(contact, channel, value, source="keyword", actor=consent.CUSTOMER, evidence={})
        else:
            field = {"whatsapp": "optInWhatsApp", "sms": "optInSms", "email": "optInEmail"}[channel]
            # A person's edit says how the customer consented: after the customer's own SMS STOP
            # the number is on the SMS opt-out list, and a re-opt-in without that note is refused
            # (contacts/tests/test_sms_opt_out_sync.py); with it, the number leaves the list (the
            # local fake) and the change is recorded like any other.
            note = {"note": "customer asked by phone"}
            contact = actions.update_contact(
                contact.contactId, {field: value}, user=operator, source="api", evidence=note
            )
        expected_events += state[channel] != value
        state[channel] = value
    assert len(history(contact.contactId)) == expected_events
    assert agrees(contact.contactId)


# --- the page and the export -----------------------------------------------------------------


def test_the_contact_page_shows_each_channels_history_newest_first(client_for, viewer, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="page")
    consent.change(
        contact, "whatsapp", False, source="template_button", actor=consent.CUSTOMER, evidence={"messageId": "wamid.B1"}
    )
    page = client_for(viewer).get(f"/contacts/{contact.contactId}/").content.decode()
    section = page[page.index('data-history="whatsapp"') :]
    assert section.index("template_button") < section.index("operator (page)")
    assert "messageId: wamid.B1" in section and "customer" in section
    assert f"/contacts/{contact.contactId}/consent.csv" in page


def test_the_consent_history_exports_as_csv_for_an_audit(client_for, viewer, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="api")
    consent.change(
        contact,
        "sms",
        False,
        source="keyword",
        actor=consent.CUSTOMER,
        evidence={"keyword": "=STOP", "messageId": "m1"},
    )
    response = client_for(viewer).get(f"/contacts/{contact.contactId}/consent.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    table = safe_csv.read(b"".join(response.streaming_content).decode())
    assert table.header == ["contactId", "channel", "at", "optedIn", "actor", "source", "detail", "evidence"]
    rows = [row for _, row in table.rows]
    assert [(r["channel"], r["optedIn"], r["actor"], r["source"]) for r in rows] == [
        ("sms", "false", "customer", "keyword"),
        ("sms", "true", operator.username, "api"),
    ]
    assert json.loads(rows[0]["evidence"]) == {"keyword": "=STOP", "messageId": "m1"}


def test_a_missing_contacts_history_is_a_404(client_for, viewer):
    assert client_for(viewer).get("/contacts/01NOSUCHCONTACT/consent.csv").status_code == 404


def test_the_api_lists_the_history_newest_first(client_for, viewer, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="api")
    consent.change(contact, "whatsapp", False, source="keyword", actor=consent.CUSTOMER, evidence={"keyword": "STOP"})
    response = client_for(viewer).get(f"/api/contacts/{contact.contactId}/consent-history")
    assert response.status_code == 200
    assert [(e["channel"], e["optedIn"], e["actor"], e["source"], e["evidence"]) for e in response.json()] == [
        ("whatsapp", False, "customer", "keyword", {"keyword": "STOP"}),
        ("whatsapp", True, operator.username, "api", {}),
    ]
    assert client_for(viewer).get("/api/contacts/01NOSUCHCONTACT/consent-history").status_code == 404
