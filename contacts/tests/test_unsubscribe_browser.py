"""The unsubscribe page as a customer who clicks the link sees it: no login, a button, a
confirmation, at desktop and phone widths, nothing the Content-Security-Policy blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from contacts import actions, unsubscribe
from contacts.models import Contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def test_a_customer_unsubscribes_from_the_page_without_logging_in(page, live_server, operator, new_email):
    contact = actions.create_contact({"email": new_email(), "optInEmail": True}, user=operator, source="test")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/u/{unsubscribe.token(contact.contactId, 'email')}")
    expect(page.locator("h1")).to_have_text("Unsubscribe")
    expect(page.get_by_role("button", name="Menu")).to_have_count(0)  # no sidebar for a customer to open
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 700})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"scrolls at {width}px"
        page.screenshot(path=str(ARTIFACTS / f"unsubscribe-page-{width}.png"))
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    assert Contact.get(contact.contactId, consistent_read=True).optInEmail is False
    assert blocked == []
