"""The contact pages in a real browser, as each role uses them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect
from ulid import ULID

from contacts import actions, consent, queries
from contacts.models import ContactImport
from wecare.dynamo import now
from wecare.tests.naming import unique_name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def _live_named(name: str) -> list:
    return [c for c in queries.search_contacts(name).items if c.name == name]


def _consent_row(page, channel: str):
    return page.locator(f"tr[data-channel={channel}]")


def test_an_invalid_phone_is_refused_with_an_error_on_the_phone_field_and_nothing_is_created(
    login_page, operator, live_server
):
    name = unique_name("Wrong Number")
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    page.get_by_role("link", name="New contact").click()
    page.wait_for_url("**/contacts/new/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Phone").fill("12345")
    page.get_by_role("button", name="Save").click()

    error = page.locator("#error-phone")
    expect(error).to_be_visible()
    expect(error).to_contain_text("'12345' is not a phone number")
    expect(page.get_by_label("Name")).to_have_value(name)  # what was typed is kept
    expect(page.locator("h1")).to_have_text("New contact")
    assert _live_named(name) == []


def test_an_operator_creates_edits_finds_and_deletes_a_contact(login_page, operator, live_server, new_phone):
    name = unique_name("Priya Raman")
    phone = new_phone()
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    page.evaluate("window.__marker = 1")

    # Create.
    page.get_by_role("link", name="New contact").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Phone").fill(phone)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/contacts/[0-9A-Z]{26}/$"))
    contact_url = page.url
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".flash")).to_contain_text("Contact created.")
    expect(page.locator(".facts")).to_contain_text(phone)
    expect(page.locator("#whatsapp-window")).to_contain_text("No window open")
    for channel in ("whatsapp", "sms", "email"):
        expect(_consent_row(page, channel)).to_contain_text("Opted in: no")
        expect(_consent_row(page, channel)).to_contain_text("never set")

    # Edit: opt in to SMS only.
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/edit/$"))
    expect(page.get_by_label("Phone")).to_have_value(phone)
    page.get_by_label("Opted in to SMS").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(contact_url)
    expect(page.locator(".flash")).to_contain_text("Contact saved.")
    expect(_consent_row(page, "sms")).to_contain_text("Opted in: yes")
    expect(_consent_row(page, "sms")).to_contain_text("by otto-operator (page)")
    expect(_consent_row(page, "whatsapp")).to_contain_text("never set")
    expect(_consent_row(page, "email")).to_contain_text("never set")

    # Find it by part of its name with the live search box.
    page.get_by_role("link", name="All contacts").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    part = name.split()[-1][:6]
    page.get_by_role("searchbox", name="Search contacts").fill(part)
    page.wait_for_url(re.compile(rf"q={part}"))
    results = page.locator("#results")
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("SMS: opted in")

    # Delete, from the contact's page.
    results.get_by_role("link", name=name).click()
    page.wait_for_url(contact_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    expect(page.locator(".flash")).to_contain_text("Contact deleted.")
    expect(page.locator("#results").get_by_role("link", name=name)).to_have_count(0)
    page.get_by_role("searchbox", name="Search contacts").fill(name)
    expect(page.locator("#results")).to_contain_text(f"No live contact matches “{name}”")
    assert page.evaluate("window.__marker") == 1  # all of it without a full page load
    assert _live_named(name) == []


def _search_results_for(page, name: str):
    results = page.locator("#results")
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)
    return results


def test_a_name_pasted_into_the_search_box_finds_the_contact(login_page, operator, live_server, new_phone):
    name = unique_name("Pasted Person")
    actions.create_contact({"name": name, "phone": new_phone()}, user=operator, source="page")
    page = login_page(operator)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/contacts/")
    page.evaluate("text => navigator.clipboard.writeText(text)", name.split()[-1])

    box = page.get_by_role("searchbox", name="Search contacts")
    box.focus()
    page.keyboard.press("ControlOrMeta+V")  # a real paste, from the clipboard

    expect(box).to_have_value(name.split()[-1])
    _search_results_for(page, name)
    expect(page).to_have_url(re.compile(rf"q={name.split()[-1]}"))


def test_a_name_pasted_the_moment_the_search_box_is_shown_finds_the_contact(
    login_page, operator, live_server, new_phone
):
    """The first thing a person does on a page the sidebar just swapped in works: the search box
    is live as soon as it is on the screen (it used to be wired up 20 ms later)."""
    name = unique_name("Quick Paster")
    contact = actions.create_contact({"name": name, "phone": new_phone()}, user=operator, source="page")
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    expect(page.locator("h1")).to_have_text(name)
    # Paste (insertText, the editing command a paste runs) at the first moment the box exists.
    page.evaluate(
        """text => new MutationObserver((_, observer) => {
            const box = document.querySelector("input[type=search][name=q]");
            if (!box) return;
            observer.disconnect();
            box.focus();
            document.execCommand("insertText", false, text);
        }).observe(document.body, {childList: true, subtree: true})""",
        name.split()[-1],
    )
    page.get_by_role("link", name="All contacts").click()
    _search_results_for(page, name)
    expect(page).to_have_url(re.compile(rf"/contacts/\?q={name.split()[-1]}$"))


def test_a_csv_import_reports_created_rows_and_each_bad_line_and_a_second_run_creates_nothing(
    login_page, operator, live_server, new_phone, tmp_path
):
    name = unique_name("Imported Person")
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text(
        f"name,phone,optInSms\n{name},{new_phone()},true\nBad Phone,12,false\nBad Opt In,{new_phone()},maybe\n"
    )
    page = login_page(operator)

    def import_file() -> None:
        page.goto(f"{live_server.url}/contacts/")
        page.get_by_role("link", name="Import CSV").click()
        page.wait_for_url("**/contacts/import/")
        page.get_by_label("CSV file").set_input_files(csv_file)
        page.get_by_role("button", name="Import").click()
        page.wait_for_url(re.compile(r"/contacts/import/[0-9A-Z]{26}/$"))
        expect(page.locator("[data-status]")).to_have_text("completed")

    import_file()
    progress = page.locator("#import-progress")
    expect(progress).to_contain_text("3 of 3 rows")
    expect(progress).to_contain_text("Created 1 · already there 0 · errors 2")
    errors = progress.locator("tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td").nth(0)).to_have_text("3")
    expect(errors.nth(0).locator("td").nth(1)).to_contain_text("phone: '12' is not a phone number")
    expect(errors.nth(1).locator("td").nth(0)).to_have_text("4")
    expect(errors.nth(1).locator("td").nth(1)).to_contain_text("optInSms is 'maybe'; use true or false")
    page.screenshot(path=str(ARTIFACTS / "contacts-import-done.png"), full_page=True)
    [created] = _live_named(name)
    assert created.optInSms is True

    import_file()
    expect(progress).to_contain_text("Created 0 · already there 1 · errors 2")
    assert len(_live_named(name)) == 1


def test_the_import_page_follows_a_running_import_until_it_completes(login_page, operator, live_server):
    job = ContactImport(
        importId=str(ULID()),
        createdBy="otto-operator",
        createdAt=now(),
        s3Key="imports/none.csv",
        totalRows=2,
        status="running",
        processedRows=1,
    )
    job.save()
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/import/{job.importId}/")
    page.evaluate("window.__marker = 1")
    expect(page.locator("[data-status]")).to_have_text("running")
    expect(page.locator("#import-progress")).to_contain_text("1 of 2 rows")

    job.update(
        actions=[
            ContactImport.status.set("completed"),
            ContactImport.processedRows.set(2),
            ContactImport.createdCount.set(2),
        ]
    )
    expect(page.locator("[data-status]")).to_have_text("completed", timeout=15000)
    expect(page.locator("#import-progress")).to_contain_text("Created 2 · already there 0 · errors 0")
    expect(page.locator("h1")).to_have_text(job.title)  # the fragment replaced only the progress
    assert page.evaluate("window.__marker") == 1


def test_a_viewer_sees_no_write_buttons_and_is_refused_the_new_contact_page(login_page, viewer, live_server):
    page = login_page(viewer)
    page.goto(f"{live_server.url}/contacts/")
    expect(page.locator("h1")).to_have_text("Contacts")
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()
    expect(page.get_by_role("link", name="New contact")).to_have_count(0)
    expect(page.get_by_role("link", name="Import CSV")).to_have_count(0)

    response = page.goto(f"{live_server.url}/contacts/new/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("#main")).to_contain_text("needs operator, has viewer")
    expect(page.locator("form input[name=phone]")).to_have_count(0)


def test_a_viewer_sees_a_contact_without_edit_or_delete(login_page, viewer, operator, live_server, new_phone):
    contact = actions.create_contact(
        {"name": unique_name("Read Only"), "phone": new_phone()}, user=operator, source="page"
    )
    page = login_page(viewer)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    expect(page.locator("h1")).to_have_text(contact.name)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)


def test_an_admin_opens_a_deleted_contact_and_restores_it(login_page, admin_user, operator, live_server, new_phone):
    name = unique_name("Back Again")
    contact = actions.create_contact({"name": name, "phone": new_phone()}, user=operator, source="page")
    actions.delete_contact(contact.contactId, user=operator)

    page = login_page(admin_user)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator("#main [data-deleted]")).to_contain_text("Deleted")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    page.get_by_role("button", name="Restore").click()
    expect(page.locator(".flash")).to_contain_text("Contact restored.")
    # The deleted notice is gone (the composer's own refusal, a contact with no consent yet, is
    # another .error and stays, drawn a moment later by its check).
    expect(page.locator("#main [data-deleted]")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_be_visible()

    page.get_by_role("link", name="All contacts").click()
    page.get_by_role("searchbox", name="Search contacts").fill(name)
    expect(page.locator("#results").get_by_role("link", name=name)).to_be_visible()
    assert [c.contactId for c in _live_named(name)] == [contact.contactId]


def test_an_operator_cannot_open_a_deleted_contact(login_page, operator, live_server, new_phone):
    contact = actions.create_contact({"name": unique_name("Gone"), "phone": new_phone()}, user=operator, source="page")
    actions.delete_contact(contact.contactId, user=operator)
    page = login_page(operator)
    response = page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.get_by_role("button", name="Restore")).to_have_count(0)


def test_a_viewer_reads_the_consent_history_at_desktop_and_phone_widths(
    login_page, viewer, operator, live_server, new_phone
):
    contact = actions.create_contact(
        {"name": unique_name("History"), "phone": new_phone(), "optInWhatsApp": True}, user=operator, source="page"
    )
    consent.change(
        contact,
        "whatsapp",
        False,
        source="keyword",
        actor=consent.CUSTOMER,
        evidence={"messageId": "wamid.HISTORY-STOP-0001", "keyword": "STOP"},
    )
    page = login_page(viewer)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    rows = page.locator("table[data-history=whatsapp] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("opted out")
    expect(rows.first).to_contain_text("keyword: STOP")
    expect(rows.last).to_contain_text("opted in")
    expect(page.get_by_role("link", name="Export consent history (CSV)")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        history = page.locator("#consent-history")
        history.scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"scrolls at {width}px"
        history.screenshot(path=str(ARTIFACTS / f"contacts-consent-history-{width}.png"))
