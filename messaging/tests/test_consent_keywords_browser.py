"""The admin's consent-keywords pages as a person sees them: they fit a 320 px phone (Django's
admin gives textareas 40 columns and lets tables grow) and show the words at 1280 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.mark.parametrize("width", [1280, 320])
def test_the_keyword_pages_fit_the_screen_and_show_the_words(login_page, admin_user, live_server, chromium, width):
    page = login_page(admin_user)
    context = chromium.new_context(viewport={"width": width, "height": 800}, storage_state=page.context.storage_state())
    sized = context.new_page()
    try:
        for path, name in (("/admin/consent-keywords/", "index"), ("/admin/consent-keywords/sms/", "sms")):
            sized.goto(f"{live_server.url}{path}")
            expect(sized.locator("#content")).to_contain_text("STOP")
            ARTIFACTS.mkdir(exist_ok=True)
            sized.screenshot(path=str(ARTIFACTS / f"consent-keywords-{name}-{width}.png"), full_page=True)
            widths = sized.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
            assert max(widths) <= width, f"{path} scrolls sideways at {width} px: scrollWidth {widths}"
    finally:
        context.close()
