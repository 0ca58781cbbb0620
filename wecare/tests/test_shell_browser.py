"""The UI shell in a real browser: title, sidebar, look, htmx navigation and the 320 px layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from contacts import actions, queries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
NOT_BUILT = ["Pay", "Link", "Forms", "Docs", "Invoice"]  # DM is the inbox now; Agent is /agent/


def _contact(operator, phone: str, name: str):
    return actions.create_contact({"name": name, "phone": phone}, user=operator, source="page")


def test_every_page_is_titled_wecare_digital(login_page, operator, live_server):
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    assert "WECARE.DIGITAL" in page.title()
    assert page.title() == "Contacts · WECARE.DIGITAL"
    page.goto(f"{live_server.url}/contacts/new/")
    assert page.title() == "New contact · WECARE.DIGITAL"


def test_the_sidebar_lists_every_area_and_marks_those_not_built_as_coming(login_page, operator, live_server):
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    sidebar = page.locator("#sidebar")
    expect(sidebar).to_be_visible()
    labels = [
        re.sub(r"\s+(coming|\d+)$", "", text.strip()) for text in sidebar.locator("li > a, li > span").all_inner_texts()
    ]
    assert labels == [
        "Pay",
        "Link",
        "Forms",
        "Docs",
        "Invoice",
        "DM",
        "WhatsApp",
        "SMS",
        "SES",
        "Templates",
        "Usage",
        "Contacts",
        "Bulk Messaging",
        "Agent",
        "Operations",
        "Dashboard",
        "Alerts",
    ]

    for label in NOT_BUILT:
        item = sidebar.locator("span.coming", has_text=re.compile(rf"^{re.escape(label)}\b"))
        expect(item).to_have_count(1)
        expect(item).to_be_visible()
        expect(item.locator("small")).to_have_text("coming")
        assert item.get_attribute("aria-disabled") == "true"
        assert sidebar.get_by_role("link", name=re.compile(rf"^{re.escape(label)}\b")).count() == 0, (
            f"{label} is a link"
        )

    expect(sidebar.get_by_role("link", name="Bulk Messaging", exact=True)).to_have_attribute("href", "/bulk/")
    expect(sidebar.get_by_role("link", name="Agent", exact=True)).to_have_attribute("href", "/agent/")
    expect(sidebar.get_by_role("link", name="WhatsApp", exact=True)).to_have_attribute("href", "/dm/?channel=whatsapp")
    expect(sidebar.get_by_role("link", name=re.compile(r"^DM\b"))).to_have_attribute("href", "/dm/")  # the inbox
    contacts = sidebar.get_by_role("link", name="Contacts", exact=True)
    expect(contacts).to_have_attribute("href", "/contacts/")
    expect(contacts).to_have_attribute("aria-current", "page")


def test_the_look_is_helvetica_light_on_white_with_black_rounded_buttons(login_page, operator, live_server):
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    body = page.evaluate(
        "() => { const s = getComputedStyle(document.body); return {font: "
        "s.fontFamily, weight: s.fontWeight, bg: s.backgroundColor} }"
    )
    assert "Helvetica" in body["font"]
    assert body["weight"] == "300"
    assert body["bg"] == "rgb(255, 255, 255)"
    html_bg = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert html_bg == "rgb(255, 255, 255)"

    button = page.get_by_role("button", name="Search")
    style = button.evaluate(
        "b => { const s = getComputedStyle(b); return {bg: s.backgroundColor, "
        "radius: s.borderRadius, color: s.color, weight: s.fontWeight} }"
    )
    assert style == {"bg": "rgb(0, 0, 0)", "radius": "13px", "color": "rgb(255, 255, 255)", "weight": "300"}
    new_contact = page.get_by_role("link", name="New contact")  # a link styled as a button looks the same
    assert new_contact.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).borderRadius]") == [
        "rgb(0, 0, 0)",
        "13px",
    ]


def test_links_and_the_sidebar_navigate_without_a_full_page_reload(login_page, operator, live_server, new_phone):
    # Enough contacts for a second page of the list, the newest being ours.
    missing = 51 - len(queries.list_contacts(limit=51).items)
    for n in range(max(missing, 0)):
        _contact(operator, new_phone(), f"Filler {n}")
    ours = _contact(operator, new_phone(), "Navi Gation")

    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    page.evaluate("window.__marker = 1")

    # A contact link in the list.
    page.get_by_role("link", name="Navi Gation").first.click()
    page.wait_for_url(f"**/contacts/{ours.contactId}/")
    expect(page.locator("h1")).to_have_text("Navi Gation")
    expect(page).to_have_title("Navi Gation · WECARE.DIGITAL")
    assert page.evaluate("window.__marker") == 1

    # From the contact back to the list.
    page.get_by_role("link", name="All contacts").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    expect(page.locator("h1")).to_have_text("Contacts")
    assert page.evaluate("window.__marker") == 1

    # The list's pagination.
    first_page_names = page.locator("#results tbody tr td:first-child").all_inner_texts()
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"/contacts/\?cursor="))
    expect(page.locator("#results tbody tr").first).not_to_have_text(first_page_names[0])
    assert page.locator("#results tbody tr td:first-child").all_inner_texts() != first_page_names
    assert page.evaluate("window.__marker") == 1

    # The sidebar (and the browser's back button, from htmx's history).
    page.locator("#sidebar").get_by_role("link", name="Contacts", exact=True).click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    expect(page.locator("#results tbody tr td:first-child").first).to_have_text(first_page_names[0])
    page.go_back()
    page.wait_for_url(re.compile(r"/contacts/\?cursor="))
    assert page.evaluate("window.__marker") == 1


def test_a_page_that_answers_not_found_still_replaces_the_content(login_page, operator, live_server, new_phone):
    """htmx leaves 4xx answers unswapped by default: a click on a contact deleted meanwhile would
    do nothing at all. The 404 and 403 pages are whole pages, so they are shown."""
    gone = _contact(operator, new_phone(), "Soon Gone")
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/?q=Soon+Gone")
    page.evaluate("window.__marker = 1")
    actions.delete_contact(gone.contactId, user=operator)
    page.get_by_role("link", name="Soon Gone").click()
    page.wait_for_url(f"**/contacts/{gone.contactId}/")
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("#main")).to_contain_text("is deleted")
    assert page.evaluate("window.__marker") == 1


def test_an_unknown_address_shows_the_not_found_page_inside_the_shell(login_page, operator, live_server):
    page = login_page(operator)
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page).to_have_title("Not found · WECARE.DIGITAL")
    expect(page.locator("#main h1")).to_have_text("Not found")
    expect(page.locator("#sidebar").get_by_role("link", name="Contacts", exact=True)).to_be_visible()


def _narrow(chromium, page):
    """A 320 px wide phone-sized browser with the same logged-in session as ``page``."""
    context = chromium.new_context(viewport={"width": 320, "height": 640}, storage_state=page.context.storage_state())
    narrow = context.new_page()
    narrow.set_default_timeout(15000)
    return context, narrow


def _no_horizontal_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
    assert widths[0] <= 320 and widths[1] <= 320, f"page scrolls sideways: scrollWidth {widths}"


def test_at_320_px_pages_fit_the_screen_and_the_menu_opens_the_sidebar(
    login_page, operator, live_server, chromium, new_phone
):
    contact = _contact(operator, new_phone(), "Narrow Screen Person With A Rather Long Name")
    actions.update_contact(
        contact.contactId,
        {"optInSms": True, "email": "a.really.long.address.for.a.small.screen@example.com"},
        user=operator,
        source="page",
    )
    page = login_page(operator)
    context, narrow = _narrow(chromium, page)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        narrow.goto(f"{live_server.url}/contacts/")
        expect(narrow.locator("h1")).to_have_text("Contacts")
        sidebar = narrow.locator("#sidebar")
        expect(sidebar).to_be_hidden()
        _no_horizontal_scroll(narrow)
        narrow.screenshot(path=str(ARTIFACTS / "contacts-list-320.png"), full_page=True)

        menu = narrow.get_by_role("button", name="Menu")
        expect(menu).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")
        menu.click()
        expect(sidebar).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(sidebar.get_by_role("link", name="Contacts", exact=True)).to_be_in_viewport()
        _no_horizontal_scroll(narrow)
        narrow.screenshot(path=str(ARTIFACTS / "contacts-menu-open-320.png"))

        # Choosing an item closes the menu again.
        sidebar.get_by_role("link", name="Contacts", exact=True).click()
        expect(sidebar).to_be_hidden()
        expect(menu).to_have_attribute("aria-expanded", "false")

        narrow.goto(f"{live_server.url}/contacts/{contact.contactId}/")
        expect(narrow.locator("h1")).to_contain_text("Narrow Screen Person")
        _no_horizontal_scroll(narrow)
        narrow.screenshot(path=str(ARTIFACTS / "contact-detail-320.png"), full_page=True)

        narrow.goto(f"{live_server.url}/contacts/{contact.contactId}/edit/")
        _no_horizontal_scroll(narrow)
        narrow.goto(f"{live_server.url}/contacts/import/")
        _no_horizontal_scroll(narrow)
        narrow.screenshot(path=str(ARTIFACTS / "contacts-import-320.png"), full_page=True)
    finally:
        context.close()
