"""The Content-Security-Policy in a real browser: the main pages, as an admin uses them, run with
no violation (no inline script or style blocked, no eval attempted, no file from elsewhere), so a
template that slips one in fails here rather than breaking silently in production.

Opening a page is watched for every page at both widths by the every-page sweep
(test_every_page_browser.py); this walk does what a person does on the main pages (searches,
redraws a form, opens a conversation, fills the bulk wizard), which runs the pages' scripts further."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from ulid import ULID

from bulk import actions as bulk_actions
from bulk.audience import AudienceSpec
from contacts import actions
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from wecare.tests import csp_watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def csp_page(login_page, admin_user):
    page = login_page(admin_user)
    page.violations = csp_watch.watch(page)
    return page


def _shows(page, url: str, what: str) -> None:
    """Open ``url`` and wait for ``what`` (a selector) to be on the screen."""
    page.goto(url)
    expect(page.locator(what).first).to_be_visible()


def test_the_main_pages_run_without_a_policy_violation(csp_page, live_server, admin_user, settings, new_phone):
    page, base = csp_page, live_server.url
    contact = actions.create_contact(
        {"name": "Policy Pia", "phone": new_phone(), "optInSms": True}, user=admin_user, source="test"
    )
    number = f"phone-number-id-{str(ULID()).lower()}"
    settings.WHATSAPP_PHONE_NUMBER_IDS = [number]
    conv = inbox_data.conversation(contact.phone, number=number)
    inbox_data.inbound(conv, "a photo", kind="image", s3Key="whatsapp-media/whatsapp-media-incoming/photo.jpg")
    inbox_data.inbound(conv, "and a question")
    job = bulk_actions.start_job(
        AudienceSpec(search="Policy Pia"), {"text": "Hi"}, channel="sms", sender=None, user=admin_user
    )

    _shows(page, f"{base}/contacts/", "#results")
    page.get_by_role("searchbox", name="Search contacts").fill("Policy")
    expect(page.locator("#results").get_by_role("link", name="Policy Pia")).to_be_visible()
    _shows(page, f"{base}/contacts/{contact.contactId}/", "#compose select[name=channel]")
    page.locator("#compose select[name=channel]").select_option("sms")  # the form redraws through htmx
    expect(page.locator("#compose select[name=sender]")).to_have_value(settings.SMS_POOL_ID)  # redrawn

    _shows(
        page,
        f"{base}/dm/?channel=whatsapp&business={number}",
        f'[data-conversation="whatsapp~{inbox_queries.slug(conv.pk)}"]',
    )
    page.locator(f'[data-conversation="whatsapp~{inbox_queries.slug(conv.pk)}"] a.row').click()
    expect(page.locator("#timeline img").first).to_be_attached()  # the photo, a presigned S3 link
    expect(page.locator("#latest")).to_have_attribute("data-read-posted", "done")  # app.js ran and posted

    _shows(page, f"{base}/bulk/{job.jobId}/", "#job-progress")
    _shows(page, f"{base}/bulk/new/", "form")
    page.get_by_label("Contacts matching a filter").check()
    page.get_by_label("Name, phone or email contains").fill("Policy Pia")
    page.get_by_role("button", name="Next: message").click()
    page.locator("#message-step select[name=channel]").select_option("sms")
    expect(page.locator("#message-step select[name=sender]")).to_have_value(settings.SMS_POOL_ID)  # redrawn
    page.locator("#message-step textarea[name=text]").fill("Hello")
    page.get_by_role("button", name="Next: preview").click()
    expect(page.locator("#preview")).to_have_attribute("data-total", "1")

    # Nothing the pages showed is kept in the browser's storage either (htmx's history cache).
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None
    assert page.violations == []


def test_the_check_catches_an_inline_script(csp_page, live_server):
    """The guard above can fail: an inline script put into a page is reported."""
    csp_page.goto(f"{live_server.url}/contacts/")
    csp_page.evaluate(
        '() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1"; '
        "document.body.append(s); }"
    )
    expect(csp_page.locator("html")).to_have_attribute("data-csp-violations", re.compile("script-src"))
    assert csp_page.evaluate("window.__ran") is None  # blocked
    assert any("script-src" in v for v in csp_page.violations)
