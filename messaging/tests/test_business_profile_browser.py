"""A WhatsApp number's business profile page as an admin sees it: a new version saved and marked
applied at 1280 px, and the page with its versions within a 320 px phone."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from messaging import business_profile
from messaging.whatsapp_table import WaBusinessProfile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
WHATSAPP = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
LONG_WORD = "https://wecare.digital/" + "offers" * 30  # one long word in the versions table


@pytest.fixture
def profile(admin_user):
    with contextlib.suppress(WaBusinessProfile.DoesNotExist):
        WaBusinessProfile.get(business_profile.key(WHATSAPP)).delete()
    values = {
        "about": "Care, delivered.",
        "description": "We deliver medicines across Pune.\nOpen every day, 8 am to 10 pm.",
        "address": "1 MG Road, Pune 411001",
        "email": "hello@wecare.digital",
        "websites": ["https://wecare.digital", LONG_WORD],
        "vertical": "HEALTH",
    }
    business_profile.save(WHATSAPP, values, expected_version=0, user=admin_user)
    yield
    with contextlib.suppress(WaBusinessProfile.DoesNotExist):
        WaBusinessProfile.get(business_profile.key(WHATSAPP)).delete()


def test_an_admin_saves_and_marks_a_profile_applied_and_the_page_fits_a_phone(
    profile, login_page, admin_user, live_server, chromium
):
    ARTIFACTS.mkdir(exist_ok=True)
    page = login_page(admin_user)
    url = f"{live_server.url}/admin/business-numbers/{WHATSAPP}/profile/"
    page.goto(url)
    expect(page.locator(".profile-pending")).to_contain_text("Version 1")
    page.get_by_label("About").fill("Care, delivered daily.")
    page.get_by_role("button", name="Save a new version").click()
    expect(page.locator(".profile-pending")).to_contain_text("Version 2")
    expect(page.locator("#profile-versions > li").first).to_contain_text("Care, delivered daily.")
    page.screenshot(path=str(ARTIFACTS / "business-profile-pending-1280.png"), full_page=True)
    page.get_by_role("button", name="I applied version 2 in WhatsApp Manager").click()
    expect(page.locator(".profile-applied")).to_contain_text("marked version 2 applied")
    page.screenshot(path=str(ARTIFACTS / "business-profile-applied-1280.png"), full_page=True)

    phone = chromium.new_context(viewport={"width": 320, "height": 800}, storage_state=page.context.storage_state())
    try:
        small = phone.new_page()
        small.goto(url)
        expect(small.locator("#profile-versions")).to_contain_text("Applied in WhatsApp")
        small.screenshot(path=str(ARTIFACTS / "business-profile-320.png"), full_page=True)
        widths = small.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
        assert max(widths) <= 320, f"the profile page scrolls sideways at 320 px: scrollWidth {widths}"
    finally:
        phone.close()
