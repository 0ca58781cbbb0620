"""The dashboard in a real browser at 1280 px and 320 px: Chart.js (from the static files) draws a
chart over every table, with no Content-Security-Policy violation and no sideways scroll.
Screenshots: test-artifacts/dashboard-<width>.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from messaging import counters
from wecare.tests.csp_watch import watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

# Each chart's canvas: its size on the screen and how many pixels Chart.js painted on it.
CANVASES = """() => Array.from(document.querySelectorAll("figure[data-chart] canvas"), canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    const box = canvas.getBoundingClientRect();
    return {width: box.width, height: box.height, painted: painted};
})"""


def charts_drawn(page) -> None:
    """Every chart drawn on a canvas of a sensible size, and the page no wider than the screen."""
    expect(page.locator("figure[data-chart]").first).to_be_visible()
    expect(page.locator("figure[data-chart]:not([data-drawn])")).to_have_count(0)
    canvases = page.evaluate(CANVASES)
    assert len(canvases) >= 6
    for canvas in canvases:
        assert canvas["width"] > 200 and canvas["height"] > 100 and canvas["painted"] > 0, canvas
    # A wide table scrolls inside its own box; the page never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_charts_are_drawn_at_both_widths_within_the_policy(login_page, operator, live_server):
    counters.add({"whatsapp_attempted": 12, "whatsapp_sent": 11, "whatsapp_failed": 1, "whatsapp_delivered": 9})
    counters.add({"whatsapp_read": 6, "sms_inbound": 3, "email_inbound": 2, "whatsapp_inbound": 5})
    page = login_page(operator)
    violations = watch(page)
    page.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    ARTIFACTS.mkdir(exist_ok=True)

    # Opened directly (one channel) at 1280 px, then through the page's own link, which htmx
    # swaps in (a boosted link: the scripts are inserted again, Chart.js possibly after ours).
    page.goto(f"{live_server.url}/dashboard/?channel=whatsapp")
    charts_drawn(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-1280.png"), full_page=True)

    page.get_by_role("link", name="Every channel").click()
    expect(page.get_by_text("Outbound messages by status and inbound messages, every channel").first).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 900})
    charts_drawn(page)
    page.get_by_text("The figures as a table").first.click()  # the hourly figures, opened
    expect(page.locator("#per-hour table")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-320.png"), full_page=True)

    assert page.evaluate("document.documentElement.dataset.cspViolations || ''") == ""
    assert violations == []
