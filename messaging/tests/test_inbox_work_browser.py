"""Two operators working one conversation at once in Chromium, in the one inbox page (/dm/, part A's)
with the conversation-work partials in its slots: an assignment the other sees, who is viewing
and typing, a private note in the timeline, a canned reply through "/", the search; screenshots at
1280 and 320 px in test-artifacts/. The logic under it is tested without a browser in
test_inbox_work.py and test_inbox_search.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from playwright.sync_api import expect

from contacts import actions as contact_actions
from messaging import conversation_index
from messaging.inbox import canned, notes
from messaging.tests.inbound_samples import inbound
from messaging.tests.sns_signing import sns_test_certificates  # noqa: F401 - a fixture
from messaging.tests.test_inbound_processing import SUFFIX, deliver
from messaging.whatsapp_table import WaConversation

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sns_test_certificates"),
]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
COMPOSER = "form:has([data-work-tools]) textarea:not([form])"  # the reply's own message box


def signed_in(chromium, live_server, user, width: int = 1280):
    """A browser context of its own signed in as ``user`` with the session Django's own login makes
    (as conftest.py's ``login_page``; the every-page sweep drives the password form)."""
    context = chromium.new_context(viewport={"width": width, "height": 800})
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.mark.usefixtures("search_indexing")  # the customer's message is searched for at the end
def test_two_operators_share_a_conversation(chromium, live_server, django_user_model, operator, fake_aws, new_phone):
    priya = django_user_model.objects.create_user(username="priya", password="pw-priya", first_name="Priya")
    priya.groups.add(Group.objects.get_or_create(name="Operator")[0])
    phone = new_phone()
    contact_actions.create_contact({"phone": phone, "name": "Asha Rao"}, user=operator, source="test")
    deliver(inbound("inbound_text", phone=phone)[0].replace("Hi, is my order ready?", "Is my parcel tracking working"))
    key = conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, phone))
    canned.save("hours", "Hi {{contact.first_name}}, we are open 9 to 5.", user=operator, creating=True)

    otto = signed_in(chromium, live_server, operator)
    other = signed_in(chromium, live_server, priya)
    try:
        for page in (otto, other):
            page.goto(f"{live_server.url}/dm/")
            page.click(f"a[href*='{key}']")
            expect(page.locator("#work-header")).to_be_visible()

        # Otto takes it; Priya's page shows it without a reload, and each sees the other there.
        otto.click("#work-header button:has-text('Assign to me')")
        expect(otto.locator(".work-notice")).to_contain_text("Assigned to you")
        expect(otto.locator(".work-notice button")).to_have_text("Undo")
        expect(other.locator(".work-assignee")).to_contain_text(f"Assigned to {operator.username}", timeout=10000)
        expect(other.locator(".work-presence")).to_contain_text(f"{operator.username} is viewing", timeout=20000)
        other.fill(COMPOSER, "Hello")
        other.type(COMPOSER, " there")
        expect(otto.locator(".work-presence")).to_contain_text("Priya is typing", timeout=10000)

        # A canned reply through "/": filtered as typed, Enter puts the filled text in the box.
        otto.click(COMPOSER)
        otto.type(COMPOSER, "/hou")
        expect(otto.locator("#work-canned")).to_be_visible()
        otto.keyboard.press("Enter")
        expect(otto.locator(COMPOSER)).to_have_value("Hi Asha, we are open 9 to 5.")

        # A private note: the reply's box steps aside; the note joins the timeline and is not sent.
        otto.check("input[name=work-mode][value=note]")
        expect(otto.locator(COMPOSER)).to_be_hidden()
        otto.fill("#work-note-text", "Called her: the parcel left on Monday")
        otto.click("button[form=work-note-form]")
        expect(otto.locator(".work-note-status")).to_have_text("Note added.")
        assert [n.text for n in notes.in_range(key, None, None)] == ["Called her: the parcel left on Monday"]
        otto.reload()
        expect(otto.locator(".work-note-item")).to_contain_text("the parcel left on Monday")

        # Priya resolves; Otto sees it.
        other.click("#work-live button:has-text('Resolve')")
        expect(otto.locator(".work-status")).to_have_text("Resolved", timeout=10000)

        ARTIFACTS.mkdir(exist_ok=True)
        for width in (1280, 320):
            otto.set_viewport_size({"width": width, "height": 800})
            otto.screenshot(path=str(ARTIFACTS / f"inbox-work-conversation-{width}.png"), full_page=True)
            assert otto.evaluate("document.documentElement.scrollWidth") <= width

        # Search finds the customer's word and opens the conversation.
        otto.set_viewport_size({"width": 1280, "height": 800})
        otto.fill("#work-search-q", "tracking")
        otto.press("#work-search-q", "Enter")
        expect(otto.locator(".work-result")).to_contain_text("Asha Rao")
        for width in (1280, 320):
            otto.set_viewport_size({"width": width, "height": 800})
            otto.screenshot(path=str(ARTIFACTS / f"inbox-work-search-{width}.png"), full_page=True)
            assert otto.evaluate("document.documentElement.scrollWidth") <= width
        otto.click(".work-result a")
        expect(otto.locator("#work-header")).to_be_visible()
    finally:
        otto.context.close()
        other.context.close()
