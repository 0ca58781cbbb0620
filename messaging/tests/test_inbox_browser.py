"""The inbox in a real browser: a customer's message (a sample EUM event through the inbound task)
arrives while an operator watches the inbox and shows up, with its unread count, without a
reload; opening the conversation shows it and the page marks it read with its own POST, the
operator records consent and replies, and new messages keep appearing live. Also the inbox pages at 320 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect
from ulid import ULID

from contacts import actions
from contacts.validation import WhatsAppIdentity
from messaging.inbound.process import process_inbound_event
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from messaging.tests.inbound_samples import inbound
from messaging.whatsapp_table import WaConversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture
def numbers(settings):
    """Business numbers of this test's own, so the inbox shows only what this test wrote."""
    fresh = [f"phone-number-id-{str(ULID()).lower()}" for _ in range(2)]
    settings.WHATSAPP_PHONE_NUMBER_IDS = fresh
    return fresh


def deliver(body: str) -> None:
    """A customer's message, through the same task the SNS webhook hands events to."""
    process_inbound_event.apply(kwargs={"message": body, "sns_message_id": f"sns-{ULID()}"}, throw=True)


def test_an_operator_watches_a_new_customer_write_records_consent_and_replies(
    login_page, live_server, operator, new_phone, fake_aws_clean
):
    phone = new_phone()
    number = settings.WHATSAPP_PHONE_NUMBER_IDS[0]  # the sample events reach this business number
    slug = inbox_queries.slug(WaConversation.key(inbox_queries.suffix(number), phone))

    page = login_page(operator)
    page.goto(f"{live_server.url}/dm/?channel=whatsapp&business={number}")
    expect(page.locator("#conversations")).to_be_visible()
    page.evaluate("window.__marker = 1")  # gone if the page reloads

    body, _ = inbound("inbound_text", phone=phone)
    deliver(body)
    row = page.locator(f'[data-conversation="whatsapp~{slug}"]')
    expect(row).to_have_attribute("data-unread", "1")
    expect(row.locator(".unread-count")).to_have_text("1")
    expect(row).to_contain_text("is my order ready?")
    assert page.evaluate("window.__marker") == 1

    row.get_by_role("link").click()
    page.wait_for_url(re.compile(re.escape(f"/dm/whatsapp~{slug}/")))
    timeline = page.locator("#timeline")
    expect(timeline.locator("[data-direction=inbound]")).to_contain_text("is my order ready?")
    expect(page.locator("#window")).to_have_attribute("data-open", "true")  # the message opened it
    # Shown to an operator, the page posts that it was read (a GET never marks anything).
    expect(page.locator("#latest")).to_have_attribute("data-read-posted", "done")
    conversation = WaConversation.get(inbox_queries.conversation_pk(slug), consistent_read=True)
    assert conversation.unreadCount == 0

    # A new contact never has consent inferred; the operator records it explicitly.
    expect(page.locator("#opt-in")).to_have_text("no")
    page.locator("#consent button").click()
    expect(page.locator("#consent [role=alert]")).to_contain_text("Tick the box")
    page.locator("#consent input[name=confirmed]").check()
    page.locator("#consent input[name=note]").fill("Agreed in this chat")
    page.locator("#consent button").click()
    expect(page.locator("#opt-in")).to_have_text("yes")
    expect(page.locator("#consent")).to_have_count(0)

    page.evaluate("window.__marker = 2")
    body, _ = inbound("inbound_text", phone=phone)
    deliver(body)
    expect(timeline.locator("[data-direction=inbound]")).to_have_count(2)
    assert page.evaluate("window.__marker") == 2
    expect(page.locator("#latest")).to_have_attribute("data-read-posted", "done")  # the redraw posted too
    conversation.refresh(consistent_read=True)
    assert conversation.unreadCount == 0

    page.locator("#reply textarea[data-send-on-ctrl-enter]").fill("Yes, it ships today")
    page.locator("#reply button[value=send]").click()
    expect(page.locator("#reply")).to_contain_text("Queued")
    expect(timeline.locator("[data-direction=outbound]")).to_contain_text("Yes, it ships today")


@pytest.mark.parametrize("known_by", ["number", "user id"])
def test_the_conversation_page_fits_320_px(login_page, live_server, operator, chromium, numbers, new_phone, known_by):
    if known_by == "number":
        contact = actions.create_contact(
            {"name": "Narrow Nalini With A Long Name", "phone": new_phone()}, user=operator, source="test"
        )
        customer = contact.phone
    else:  # a username customer: a long id with no space to wrap at
        customer = f"US.{int(ULID()) % 10**20:020d}"
        actions.create_contact(
            {"name": "Narrow Nalini"}, user=None, source="test", whatsapp=WhatsAppIdentity(user_id=customer)
        )
    conv = inbox_data.conversation(customer, number=numbers[0])
    inbox_data.inbound(
        conv, "A rather long first message that has to wrap on a phone-sized screen without scrolling sideways"
    )
    inbox_data.message(conv, direction="OUTBOUND", text="Thanks, we will check", deliveryStatus="read")
    page = login_page(operator)
    context = chromium.new_context(viewport={"width": 320, "height": 640}, storage_state=page.context.storage_state())
    narrow = context.new_page()
    narrow.set_default_timeout(15000)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        narrow.goto(f"{live_server.url}/dm/?channel=whatsapp&business={numbers[0]}")
        expect(narrow.locator(f'[data-conversation="whatsapp~{inbox_queries.slug(conv.pk)}"]')).to_be_visible()
        _no_horizontal_scroll(narrow)
        narrow.screenshot(path=str(ARTIFACTS / f"inbox-list-320-{known_by.replace(' ', '-')}.png"), full_page=True)
        narrow.goto(f"{live_server.url}/dm/whatsapp~{inbox_queries.slug(conv.pk)}/")
        expect(narrow.locator("#consent")).to_contain_text("Record WhatsApp consent")  # no opt-in yet
        expect(narrow.locator("#timeline [data-status=read]")).to_be_visible()
        _no_horizontal_scroll(narrow)
        narrow.screenshot(
            path=str(ARTIFACTS / f"inbox-conversation-320-{known_by.replace(' ', '-')}.png"), full_page=True
        )
    finally:
        context.close()


def _no_horizontal_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert widths[0] <= 320 and widths[1] <= 320, f"page scrolls sideways: scrollWidth {widths}"


def test_a_conversation_opened_in_a_hidden_tab_is_marked_read_only_once_the_tab_is_shown(
    login_page, live_server, operator, numbers, new_phone
):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    inbox_data.inbound(conv, "sent while nobody looked")
    page = login_page(operator)
    # The tab opens in the background: the page sees itself hidden until the person switches to it.
    page.add_init_script(
        'Object.defineProperty(document, "visibilityState", '
        '{configurable: true, get: () => window.__visibility || "hidden"})'
    )
    read_posts = []
    page.on(
        "request", lambda r: read_posts.append(r.headers) if r.method == "POST" and r.url.endswith("/read/") else None
    )
    page.goto(f"{live_server.url}/dm/whatsapp~{inbox_queries.slug(conv.pk)}/")
    latest = page.locator("#latest")
    expect(latest).to_contain_text("sent while nobody looked")
    expect(latest).to_have_attribute("data-read-url", f"/dm/whatsapp~{inbox_queries.slug(conv.pk)}/read/")
    expect(latest).not_to_have_attribute("data-read-posted", re.compile(".*"))  # drawn, but not seen
    assert WaConversation.get(conv.pk, consistent_read=True).unreadCount == 1

    page.evaluate(
        """() => { window.__visibility = "visible"; document.dispatchEvent(new Event("visibilitychange")); }"""
    )
    expect(latest).to_have_attribute("data-read-posted", "done")
    assert WaConversation.get(conv.pk, consistent_read=True).unreadCount == 0
    # The page did it by itself: it carries the CSRF token and does not count as use of the session.
    [headers] = read_posts
    assert headers["x-csrftoken"] and headers["x-background-request"] == "true"


def test_a_read_mark_lost_on_the_way_is_posted_again(login_page, live_server, operator, numbers, new_phone):
    conv = inbox_data.conversation(new_phone(), number=numbers[0])
    inbox_data.inbound(conv, "are you there?")
    page = login_page(operator)
    answers = []

    def first_lost_then_through(route) -> None:
        # The first mark never reaches the server (a dropped connection); the next ones go through.
        answers.append("aborted" if not answers else "sent")
        route.abort() if answers[-1] == "aborted" else route.continue_()

    page.route("**/read/", first_lost_then_through)
    page.goto(f"{live_server.url}/dm/whatsapp~{inbox_queries.slug(conv.pk)}/")
    expect(page.locator("#latest")).to_have_attribute("data-read-posted", "done")
    assert answers == ["aborted", "sent"]
    assert WaConversation.get(conv.pk, consistent_read=True).unreadCount == 0
