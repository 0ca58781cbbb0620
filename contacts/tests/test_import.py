"""CSV import (run eagerly here; wecare/tests/test_worker.py runs it on a real worker)."""

import pytest

from contacts import imports
from contacts.queries import find_live_by_phone
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db


def test_it_creates_valid_rows_and_reports_each_bad_row_with_its_line(operator, new_phone):
    good, other = new_phone(), new_phone()
    content = (
        "name,phone,email,optInWhatsApp\n"
        f"Good One,{good},,yes\n"
        "Bad Phone,12345,,\n"
        f"Bad Optin,{other},,maybe\n"
        ",,,\n"
    ).encode()
    job = imports.get_import(imports.start_import(content, user=operator).importId)
    assert job.status == "completed" and job.createdCount == 1
    assert [(e["line"], e["reason"].split(":")[0]) for e in job.errorRows] == [(3, "phone"), (4, "optInWhatsApp is 'maybe'; use true or false"), (5, "phone")]
    contact = find_live_by_phone(good)
    assert contact.optInWhatsApp is True and contact.consentWhatsApp.source == f"csv:{job.importId}"


def test_importing_the_same_file_twice_creates_nothing_the_second_time(operator, new_phone):
    content = f"name,phone\nTwice,{new_phone()}\n".encode()
    first = imports.get_import(imports.start_import(content, user=operator).importId)
    second = imports.get_import(imports.start_import(content, user=operator).importId)
    assert (first.createdCount, first.existingCount) == (1, 0)
    assert (second.createdCount, second.existingCount, second.errorRows) == (0, 1, [])


@pytest.mark.parametrize(
    "content,message",
    [(b"", "empty"), (b"name,city\nA,B\n", "no 'phone' or 'email' column"), ("phone\n+1\n".encode("utf-16"), "not UTF-8")],
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
    assert body.splitlines()[0] == "contactId,name,phone,email,optInWhatsApp,optInSms,optInEmail,createdAt,updatedAt"
    assert any(phone in line and ",false,false,false," in line for line in body.splitlines())


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
