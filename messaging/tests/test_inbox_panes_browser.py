"""The one inbox as a person uses it, in Chromium: three panes at 1280 px (list, thread, contact),
the thread open at its newest message with the composer in view, older messages loading above
without moving what was read, Ctrl+Enter sending, J/K moving between conversations, the unread
count in the tab title; and one pane at a time at 320 px. Screenshots in test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect
from ulid import ULID

from contacts import actions
from contacts.models import Contact
from messaging.conversation_index import InboxConversation, key_for_whatsapp
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from wecare.dynamo import now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture
def number(settings):
    """A business number of this test's own, so the filtered list shows only this test's rows."""
    fresh = f"phone-number-id-{str(ULID()).lower()}"
    settings.WHATSAPP_PHONE_NUMBER_IDS = [fresh]
    return fresh


def named(conv, contact: Contact) -> None:
    """The inbox item as recording writes it once the contact is known: their name and id."""
    InboxConversation(key=key_for_whatsapp(conv.pk)).update(
        actions=[InboxConversation.contactName.set(contact.name), InboxConversation.contactId.set(contact.contactId)]
    )


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_the_inbox_in_three_panes_then_one_pane_on_a_phone(
    login_page, live_server, chromium, operator, number, new_phone
):
    contact = actions.create_contact(
        {"name": "Asha Rao", "phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test"
    )
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(minutes=5))])
    long_one = inbox_data.conversation(contact.phone, number=number, minutes_ago=1)
    for i in range(inbox_queries.PAGE_SIZE + 5):
        inbox_data.message(long_one, text=f"msg-{i:02d}", minutes_ago=100 - i)
    inbox_data.inbound(long_one, "Is my order ready?", minutes_ago=1)
    named(long_one, contact)
    others = [inbox_data.conversation(new_phone(), number=number, minutes_ago=m) for m in (5, 9)]
    inbox_data.inbound(others[0], "Second customer", minutes_ago=5)
    long_key = f"whatsapp~{inbox_queries.slug(long_one.pk)}"
    next_key = f"whatsapp~{inbox_queries.slug(others[0].pk)}"

    page = login_page(operator)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/dm/?channel=whatsapp&business={number}")
    rows = page.locator("#conversations [data-conversation]")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Asha Rao")  # the contact's name, not the number
    expect(rows.first).to_contain_text("waiting")
    expect(page).to_have_title(re.compile(r"^\(\d+\) Inbox · WECARE\.DIGITAL$"))  # unread count in the tab
    expect(page.locator("#sidebar .nav-unread")).to_be_visible()

    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile(re.escape(f"/dm/{long_key}/")))
    panes = [page.locator(sel) for sel in (".list-pane", ".thread-pane", ".contact-pane")]
    boxes = [pane.bounding_box() for pane in panes]
    assert all(boxes) and boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"], boxes  # side by side
    timeline = page.locator("#timeline")
    newest = timeline.get_by_text("Is my order ready?")
    expect(newest).to_be_in_viewport()  # opens at the newest message…
    expect(page.locator("#reply textarea[data-send-on-ctrl-enter]")).to_be_in_viewport()  # …with the composer in view
    expect(page.locator("#latest")).to_have_attribute("data-read-posted", "done")
    expect(page).to_have_title(re.compile(r"Inbox · WECARE\.DIGITAL$"))
    shot(page, "inbox-three-panes-1280")

    # Older messages load above without moving what was on screen.
    timeline.evaluate("el => { el.scrollTop = 0; }")
    anchor = timeline.get_by_text("msg-10", exact=True)
    before = anchor.bounding_box()["y"]
    timeline.locator("[data-older]").click()
    expect(timeline.get_by_text("msg-00", exact=True)).to_have_count(1)
    assert abs(anchor.bounding_box()["y"] - before) < 40

    # Ctrl+Enter sends from the composer.
    box = page.locator("#reply textarea[data-send-on-ctrl-enter]")
    box.fill("Yes, it ships today")
    box.press("Control+Enter")
    expect(page.locator("#reply")).to_contain_text("Queued")
    expect(timeline.locator("[data-direction=outbound]").last).to_contain_text("Yes, it ships today")

    # J moves to the next conversation in the list, K back.
    page.locator(".thread-title").click()  # out of the composer: keys are for the inbox again
    page.keyboard.press("j")
    page.wait_for_url(re.compile(re.escape(f"/dm/{next_key}/")))
    expect(page.locator(".thread-title")).to_contain_text(others[0].from_)
    page.keyboard.press("k")
    page.wait_for_url(re.compile(re.escape(f"/dm/{long_key}/")))
    expect(page.locator(f'[data-conversation="{long_key}"]')).to_have_attribute("aria-current", "true")

    narrow_context = chromium.new_context(
        viewport={"width": 320, "height": 640}, storage_state=page.context.storage_state()
    )
    narrow = narrow_context.new_page()
    narrow.set_default_timeout(15000)
    try:
        narrow.goto(f"{live_server.url}/dm/?channel=whatsapp&business={number}")
        expect(narrow.locator(".list-pane")).to_be_visible()
        expect(narrow.locator(".thread-pane")).to_be_hidden()
        first = narrow.locator("#conversations .preview").first
        assert first.bounding_box()["height"] < 2 * 24  # one line of preview, not five
        _fits(narrow)
        shot(narrow, "inbox-list-320")
        narrow.locator("#conversations [data-conversation] a").first.click()
        narrow.wait_for_url(re.compile(re.escape(f"/dm/{long_key}/")))
        expect(narrow.locator(".list-pane")).to_be_hidden()
        expect(narrow.get_by_role("link", name="← Conversations")).to_be_visible()
        expect(narrow.locator("#reply textarea[data-send-on-ctrl-enter]")).to_be_in_viewport()
        expect(narrow.locator("#timeline").get_by_text("Yes, it ships today")).to_be_in_viewport()
        _fits(narrow)
        shot(narrow, "inbox-thread-320")
    finally:
        narrow_context.close()


def _fits(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(widths) <= 320, f"page scrolls sideways: scrollWidth {widths}"
