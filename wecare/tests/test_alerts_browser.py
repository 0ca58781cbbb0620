"""The Alerts page as an operator sees it: alerts of one kind newest first with their counts, one
acknowledged with a click, and nothing scrolling sideways at 1280 px or on a 320 px phone."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from wecare.alerts import Kind, raise_alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def _fits(page, width: int) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(widths) <= width, f"/alerts/ scrolls sideways at {width} px: scrollWidth {widths}"


def test_an_operator_reads_and_acknowledges_alerts_at_1280_and_320_px(login_page, operator, live_server):
    job = f"01JOB{uuid.uuid4().hex[:21].upper()}"  # a long id, as bulk job ids are
    for _ in range(3):
        raise_alert(
            Kind.JOB_FAILED,
            job,
            "Bulk job “Diwali offers to every customer in Maharashtra and Karnataka” failed: the provider "
            "refused the template marketing_diwali_2026_offer_with_a_long_name (#132001).",
            link="/bulk/",
        )
    other = f"01JOB{uuid.uuid4().hex[:21].upper()}"
    raise_alert(Kind.JOB_FAILED, other, "A second job failed.")

    page = login_page(operator)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/alerts/?kind={Kind.JOB_FAILED}")
    row = page.locator("#alerts tbody tr", has_text=job)
    expect(row).to_be_visible()
    # Newest first (of these two: other tests' alerts share the table, some raised "in the future").
    texts = page.locator("#alerts tbody tr").all_inner_texts()
    assert [i for i, t in enumerate(texts) if other in t] < [i for i, t in enumerate(texts) if job in t]
    expect(row.locator("[data-occurrences]")).to_have_text("3")
    expect(page.get_by_role("link", name="Operations")).to_be_visible()
    _fits(page, 1280)
    page.screenshot(path=str(ARTIFACTS / "alerts-1280.png"), full_page=True)

    row.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".flash")).to_contain_text(f"Acknowledged: Bulk job failed, {job}.")
    expect(page.locator("#alerts tbody tr", has_text=job)).to_contain_text(f"Acknowledged by {operator.username}")

    page.set_viewport_size({"width": 320, "height": 800})
    page.reload()
    expect(page.locator("#alerts tbody tr", has_text=job)).to_contain_text(f"Acknowledged by {operator.username}")
    _fits(page, 320)
    page.screenshot(path=str(ARTIFACTS / "alerts-320.png"), full_page=True)
