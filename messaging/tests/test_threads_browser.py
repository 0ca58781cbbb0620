"""The SMS and email conversations in a real browser: a customer's SMS arrives while an operator
watches the inbox and shows up without a reload; the operator opens it (the page marks it read
with its own POST) and replies, the reply appearing in the timeline; an email conversation shows
its subject, the sanitised HTML and the attachment, and a reply goes with "Re:"; a refused reply
shows the gate's sentence. Each page at 1280 px and 320 px, screenshots in test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from playwright.sync_api import expect
from ulid import ULID

from contacts import actions
from messaging.inbox import thread_queries as queries
from messaging.tests import thread_data
from wecare.aws import client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
LONG_SUBJECT = "Re: Fwd: Question about invoice INV-2026-000042 for the March delivery to the Pune warehouse, again"


@pytest.fixture
def business(settings, new_phone):
    number = new_phone()
    settings.SMS_NUMBERS = [number]
    return number


@pytest.fixture
def address():
    # A long receiving address: it must wrap on a phone, not widen the page.
    return f"customer-support-and-orders-{str(ULID()).lower()}@wecare.digital"


def person(operator, new_phone, new_email, **fields):
    data = {"name": "Browser Bala", "phone": new_phone(), "email": new_email(), **fields}
    return actions.create_contact(data, user=operator, source="test")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page, width: int) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert widths[0] <= width and widths[1] <= width, f"page scrolls sideways: scrollWidth {widths}"


def email_with_attachment(address: str, contact, *, subject: str = LONG_SUBJECT):
    key = f"inbound-email/{ULID()}/delivery-note-march-2026-pune-warehouse.pdf"
    client("s3").put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=b"%PDF-1.4 note")
    return thread_data.email(
        address,
        contact,
        "Hello, the delivery note is attached.",
        subject=subject,
        html=(
            "<p>Hello,</p><p>The <b>delivery note</b> is attached. Reference: "
            "INV2026000042PUNEWAREHOUSEMARCHDELIVERYREFERENCEWITHOUTSPACES</p>"
            "<table><tr><td>Item</td><td>Qty</td></tr><tr><td>Rice 25 kg</td><td>40</td></tr></table>"
            "<script>alert('x')</script>"
        ),
        messageIdHeader="note-1@mail.example.com",
        attachments=[
            {
                "s3Key": key,
                "filename": "delivery-note-march-2026-pune-warehouse.pdf",
                "contentType": "application/pdf",
                "size": 13,
            }
        ],
    )


def test_an_operator_watches_an_sms_arrive_opens_it_and_replies(
    login_page, live_server, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, name="Sunita Sharma", optInSms=True)
    page = login_page(operator)
    page.goto(f"{live_server.url}/dm/?channel=sms&business={quote(business)}")
    expect(page.locator("#conversations")).to_contain_text("No SMS conversations yet")
    page.evaluate("window.__marker = 1")  # gone if the page reloads

    message = thread_data.sms(business, contact, "Is my order ready for pickup?")
    slug = queries.slug(message.threadId)
    row = page.locator(f'[data-conversation="{slug}"]')
    expect(row).to_have_attribute("data-unread", "1")
    expect(row).to_contain_text("Is my order ready for pickup?")
    assert page.evaluate("window.__marker") == 1
    shot(page, "sms-list-1280")

    row.get_by_role("link").click()
    page.wait_for_url(re.compile(re.escape(f"/dm/{slug}/")))
    expect(page.locator("#contact-link")).to_have_text("Sunita Sharma")
    expect(page.locator("#latest")).to_have_attribute("data-read-posted", "done")
    assert thread_data.thread_of(message).unreadCount == 0

    page.locator("#reply textarea[data-send-on-ctrl-enter]").fill("Yes, it is ready. We are open until 7 pm.")
    page.locator("#reply button[value=send]").click()
    expect(page.locator("#reply")).to_contain_text("Queued")
    outbound = page.locator("#timeline [data-direction=outbound]")
    expect(outbound).to_contain_text("We are open until 7 pm.")
    expect(outbound.locator("[data-status=sent]")).to_be_visible()
    shot(page, "sms-thread-1280")


def test_an_email_conversation_shows_html_and_attachment_and_the_reply_goes_with_re(
    login_page, live_server, operator, address, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, name="Esha Email", optInEmail=True)
    message = email_with_attachment(address, contact, subject="Delivery note for March")
    slug = queries.slug(message.threadId)
    page = login_page(operator)
    page.goto(f"{live_server.url}/dm/?channel=email&business={quote(address)}")
    row = page.locator(f'[data-conversation="{slug}"]')
    expect(row).to_contain_text("Delivery note for March")
    expect(row).to_contain_text("Esha Email")  # the contact's name; the address is the name's title
    expect(row.locator(".name")).to_have_attribute("title", contact.email)
    shot(page, "email-list-1280")

    row.get_by_role("link").click()
    page.wait_for_url(re.compile(re.escape(f"/dm/{slug}/")))
    html = page.locator("#timeline [data-html]")
    expect(html.locator("b")).to_have_text("delivery note")
    expect(html.locator("script")).to_have_count(0)
    expect(page.locator("[data-attachment]")).to_have_text("delivery-note-march-2026-pune-warehouse.pdf")
    expect(page.locator("#reply input[name=subject]")).to_have_value("Re: Delivery note for March")
    page.locator("#reply textarea[data-send-on-ctrl-enter]").fill("Thank you, received.")
    page.locator("#reply button[value=send]").click()
    expect(page.locator("#reply")).to_contain_text("Queued")
    expect(page.locator("#timeline [data-direction=outbound]")).to_contain_text("Thank you, received.")
    shot(page, "email-thread-1280")


@pytest.fixture
def narrow(login_page, chromium, operator):
    page = login_page(operator)
    context = chromium.new_context(viewport={"width": 320, "height": 640}, storage_state=page.context.storage_state())
    small = context.new_page()
    small.set_default_timeout(15000)
    yield small
    context.close()


def test_the_sms_pages_fit_320_px_and_a_refusal_shows_the_gates_sentence(
    narrow, live_server, operator, business, new_phone, new_email
):
    contact = person(operator, new_phone, new_email, name="Narrow Naveen With A Rather Long Name")  # no SMS opt-in
    message = thread_data.sms(
        business, contact, "A long first message that has to wrap on a phone-sized screen without scrolling sideways"
    )
    slug = queries.slug(message.threadId)
    narrow.goto(f"{live_server.url}/dm/?channel=sms&business={quote(business)}")
    expect(narrow.locator(f'[data-conversation="{slug}"]')).to_be_visible()
    no_horizontal_scroll(narrow, 320)
    shot(narrow, "sms-list-320")

    narrow.goto(f"{live_server.url}/dm/{slug}/")
    narrow.locator("#reply textarea[data-send-on-ctrl-enter]").fill("Hello")
    # The refusal is certain, so it is said before sending and Send stays off (compose_check),
    # with the way to record the consent it lacks.
    refusal = narrow.locator("#reply [data-refusal-certain]")
    expect(refusal).to_contain_text("has not agreed to SMS messages yet")
    expect(refusal.get_by_role("link", name="Record their SMS consent")).to_be_visible()
    expect(narrow.locator("#reply button[value=send]")).to_be_disabled()
    no_horizontal_scroll(narrow, 320)
    shot(narrow, "sms-thread-320")


def test_the_email_pages_fit_320_px(narrow, live_server, operator, address, new_phone, new_email):
    contact = person(operator, new_phone, new_email, name="Narrow Nila", optInEmail=True)
    message = email_with_attachment(address, contact)
    slug = queries.slug(message.threadId)
    narrow.goto(f"{live_server.url}/dm/?channel=email&business={quote(address)}")
    expect(narrow.locator(f'[data-conversation="{slug}"]')).to_be_visible()
    no_horizontal_scroll(narrow, 320)
    shot(narrow, "email-list-320")

    narrow.goto(f"{live_server.url}/dm/{slug}/")
    expect(narrow.locator("[data-attachment]")).to_be_visible()
    no_horizontal_scroll(narrow, 320)
    shot(narrow, "email-thread-320")
