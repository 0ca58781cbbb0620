"""What a new operator tripped over on the contact pages: national numbers take the business's
country (form, API, import), a blank last line is no error, an import is titled by its file and
its refused rows download as CSV, and the list's headings say which Email is which."""

from __future__ import annotations

import csv
import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts import actions, imports
from contacts.queries import find_live_by_phone
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db


@pytest.fixture
def national():
    """An Indian mobile number as it is dialled in India ("98123 45680") and its E.164 form."""
    rng = random.Random()

    def make() -> tuple[str, str]:
        digits = f"98{rng.randint(10_000_000, 99_999_999)}"
        return f"{digits[:5]} {digits[5:]}", f"+91{digits}"

    return make


def test_the_contact_form_reads_a_national_number_in_the_default_country(client_for, operator, national, settings):
    assert settings.DEFAULT_PHONE_REGION == "IN"
    typed, e164 = national()
    response = client_for(operator).post("/contacts/new/", {"name": "Nita National", "phone": typed})
    assert response.status_code == 302
    assert find_live_by_phone(e164).name == "Nita National"


def test_the_api_reads_a_national_number_in_the_default_country(client_for, operator, national):
    typed, e164 = national()
    response = client_for(operator).post("/api/contacts", {"phone": typed}, content_type="application/json")
    assert response.status_code == 201 and response.json()["phone"] == e164


def test_a_number_that_is_not_one_in_the_default_country_is_refused_with_a_way_out(operator):
    with pytest.raises(FieldErrors) as refused:
        actions.create_contact({"phone": "12345"}, user=operator, source="test")
    assert "not a phone number in IN" in refused.value.errors["phone"]


def test_an_import_titles_itself_by_its_file_skips_a_blank_last_line_and_offers_its_refused_rows(
    client_for, operator, national
):
    typed, e164 = national()
    content = f"name,phone,email\nImported Indu,{typed},\nBad Phone,12,\n=Bad Formula,13,\n,,\n".encode()
    client = client_for(operator)
    response = client.post("/contacts/import/", {"file": SimpleUploadedFile("diwali-leads.csv", content)})
    assert response.status_code == 302
    job = imports.get_import(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.status == "completed" and job.createdCount == 1 and job.totalRows == 3
    assert [e["line"] for e in job.errorRows] == [3, 4]  # the ",," line is not an error
    assert find_live_by_phone(e164).name == "Imported Indu"
    page = client.get(response["Location"]).content.decode()
    assert "<title>Import of diwali-leads.csv," in page and job.importId not in page.split("<h1")[1].split("</h1>")[0]
    assert f'href="/contacts/import/{job.importId}/rejected.csv"' in page
    download = client.get(f"/contacts/import/{job.importId}/rejected.csv")
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["line", "reason", "name", "phone", "email"]
    assert [r[0] for r in rows[1:]] == ["3", "4"] and rows[1][2:4] == ["Bad Phone", "12"]
    assert rows[2][2] == "'=Bad Formula"  # written as text, as every CSV the app writes
    assert client_for(operator).get("/contacts/import/01NOTANIMPORT0000000000000/rejected.csv").status_code == 404


def test_the_list_heads_the_opt_in_columns_apart_from_the_address_and_wraps_a_long_email(
    client_for, operator, new_phone
):
    long_email = "a-very-long-address-" + "x" * 120 + f"{random.randint(0, 10**9)}@example.com"
    actions.create_contact(
        {"name": "Lola Long", "phone": new_phone(), "email": long_email}, user=operator, source="test"
    )
    page = client_for(operator).get("/contacts/", {"q": "Lola Long"}).content.decode()
    assert "<th>Email</th><th>WhatsApp opt-in</th><th>SMS opt-in</th><th>Email opt-in</th>" in page
    assert f'<td class="wrap-anywhere">{long_email}</td>' in page
