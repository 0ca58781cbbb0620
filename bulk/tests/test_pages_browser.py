"""The bulk wizard and the live progress bar in a real browser, with a real Celery worker sending
the chunks from bulk-queue (SQS on moto), so the page watches a job that is actually running."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from bulk.models import BulkJob, BulkRecipient
from contacts import actions
from wecare.tests.workers import running_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture
def bulk_worker(tmp_path):
    """A real worker on bulk-queue; the live server publishes the chunks to SQS for it."""
    with running_worker(tmp_path, queues="bulk-queue") as proc:
        yield proc


def fits_320(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_operator_walks_the_wizard_confirms_and_watches_the_job_complete_and_a_viewer_only_watches(
    bulk_worker, login_page, live_server, operator, viewer, new_phone
):
    name = f"Bulk Bianca {''.join(random.choices(string.ascii_lowercase, k=10))}"
    for i in range(25):
        actions.create_contact(
            {"name": f"{name} {string.ascii_lowercase[i]}", "phone": new_phone(), "optInSms": True},
            user=operator,
            source="test",
        )
    for i in range(2):
        actions.create_contact(
            {"name": f"{name} no consent {string.ascii_lowercase[i]}", "phone": new_phone()},
            user=operator,
            source="test",
        )

    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/")
    page.locator("#sidebar").get_by_role("link", name="Bulk Messaging").click()
    page.wait_for_url("**/bulk/")
    page.get_by_role("link", name="New bulk job").click()
    page.wait_for_url("**/bulk/new/**")

    # Step 1: the audience, by a search (opt-in left unticked, so the preview shows who is refused).
    # Each radio sits beside its label (a radio given the text boxes' full width sat ~120 px away).
    radio = page.get_by_label("Contacts matching a filter")
    radio_box, label_box = radio.bounding_box(), page.get_by_text("Contacts matching a filter").bounding_box()
    assert radio_box["width"] < 40 and label_box["x"] - (radio_box["x"] + radio_box["width"]) < 20
    radio.check()
    page.get_by_label("Name, phone or email contains").fill(name)
    page.get_by_label("Only contacts opted in on the job's channel").uncheck()
    page.get_by_role("button", name="Next: message").click()
    page.wait_for_url("**/bulk/new/message/")

    # Step 2: channel (the step redraws with SMS's sender), then the text
    expect(page.locator("#message-step select[name=channel]")).to_be_visible()
    page.locator("#message-step select[name=channel]").select_option("sms")
    expect(page.locator("#message-step select[name=sender]")).to_have_value(settings.SMS_POOL_ID)  # redrawn for SMS
    page.locator("#message-step textarea[name=text]").fill("Our shop opens at nine tomorrow.")
    page.get_by_label("Campaign name").fill(f"Opening hours {name[-6:]}")
    page.get_by_role("button", name="Next: preview").click()
    page.wait_for_url("**/bulk/new/preview/")

    # Step 3: the preview's counts
    preview = page.locator("#preview")
    expect(preview).to_have_attribute("data-sendable", "25")
    expect(preview).to_have_attribute("data-total", "27")
    expect(page.locator("#refusals tr[data-reason=CONSENT_NEVER_GIVEN] [data-count]")).to_have_attribute(
        "data-count", "2"
    )
    expect(page.locator("#estimate")).to_contain_text("about 5 s")
    page.set_viewport_size({"width": 320, "height": 800})
    assert fits_320(page), "the preview is wider than 320 px"
    page.screenshot(path=str(ARTIFACTS / "bulk-preview-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Step 4: 25 is above the threshold: starting without ticking the box is refused
    jobs_before = {job.jobId for job in BulkJob.scan()}
    page.get_by_role("button", name="Start job").click()
    expect(page.locator("#confirm [data-field=confirm]")).to_contain_text("Tick the box")
    assert {job.jobId for job in BulkJob.scan()} == jobs_before
    page.get_by_label("Send to 25 recipients").check()
    page.get_by_role("button", name="Start job").click()
    page.wait_for_url(lambda url: "/bulk/new/" not in url and "/bulk/" in url)
    (job_id,) = {job.jobId for job in BulkJob.scan()} - jobs_before
    expect(page.locator(".flash")).to_contain_text(f"Job “Opening hours {name[-6:]}” started: 25 recipients")
    expect(page.locator("h1")).to_have_text(f"Opening hours {name[-6:]}")

    # The job page follows the real worker through htmx polling, without reloading the page
    page.evaluate("window.__notReloaded = true")
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute(
        "data-status", "completed", timeout=90_000
    )  # a bound on waiting, not a speed check
    expect(progress.locator("[data-count=sent]")).to_have_text("25")
    expect(progress.locator("[data-count=skipped]")).to_have_text("2")
    expect(progress.locator("[data-count=pending]")).to_have_text("0")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    # The table followed the counts through the same polls: every row is there without a reload
    expect(page.locator("#recipients tbody tr[data-status=sent]")).to_have_count(25)
    expect(page.locator("#recipients tbody tr[data-status=skipped]")).to_have_count(2)
    # The funnel: 25 sent (SMS: delivery events come from the carrier later, replies are WhatsApp's)
    expect(page.locator("#job-funnel li[data-stage=sent] [data-count]")).to_have_text("25")
    expect(page.locator("#job-funnel li[data-stage=replied]")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "bulk-job-1280.png"), full_page=True)
    expect(page.locator("#report-link")).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded instead of polled"
    expect(page.locator("#job-controls")).to_have_count(0)  # a completed job has nothing to control
    with page.expect_download() as download:
        page.locator("#report-link").click()
    report = Path(download.value.path()).read_text()
    assert report.count(",sent,") == 25 and report.count("CONSENT_NEVER_GIVEN") == 2

    # A viewer watches the same job and its report, with no buttons and no way to start one
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/**")
    page = login_page(viewer)
    page.goto(f"{live_server.url}/bulk/")
    expect(page.locator(f"#jobs tr[data-job='{job_id}'] [data-status]")).to_have_text("completed")
    expect(page.get_by_role("link", name="New bulk job")).to_have_count(0)
    page.locator(f"#jobs tr[data-job='{job_id}'] a").click()
    page.wait_for_url(f"**/bulk/{job_id}/")
    expect(page.locator("#job-progress [data-count=sent]")).to_have_text("25")
    expect(page.locator("#report-link")).to_be_visible()
    expect(page.locator("#job-progress button")).to_have_count(0)
    expect(page.locator("#recipients tbody tr")).to_have_count(27)
    page.set_viewport_size({"width": 320, "height": 800})
    assert fits_320(page), "the job page is wider than 320 px"
    page.screenshot(path=str(ARTIFACTS / "bulk-job-320.png"), full_page=True)


def test_a_running_job_shows_pause_and_cancel_to_an_operator_and_the_page_follows_a_cancel(
    bulk_worker, login_page, live_server, operator, new_phone
):
    from bulk import actions as bulk_actions
    from bulk.audience import AudienceSpec

    name = f"Bulk Cora {''.join(random.choices(string.ascii_lowercase, k=10))}"
    for i in range(3):
        actions.create_contact(
            {"name": f"{name} {string.ascii_lowercase[i]}", "phone": new_phone(), "optInSms": True},
            user=operator,
            source="test",
        )
    bulk_worker.terminate()  # no worker: the job stays pending while the page looks at it
    bulk_worker.wait(timeout=30)
    job = bulk_actions.start_job(AudienceSpec(search=name), {"text": "Hi"}, channel="sms", sender=None, user=operator)
    # Two recipients claimed, their provider calls under way (as a chunk leaves them at a pause)
    for index in (1, 2):
        BulkRecipient(jobId=job.jobId, recipientId=f"r#{index:06d}", row=index, status="sending").save()
    page = login_page(operator)
    page.goto(f"{live_server.url}/bulk/{job.jobId}/")
    controls = page.locator("#job-controls")
    expect(controls.get_by_role("button", name="Pause")).to_be_visible()
    expect(controls.get_by_role("button", name="Cancel")).to_be_visible()
    controls.get_by_role("button", name="Pause").click()
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "paused")
    expect(page.locator(".flash")).to_contain_text("Paused. 2 messages already with the provider will still go.")
    expect(page.locator("#job-in-flight")).to_have_attribute("data-in-flight", "2")
    page.screenshot(path=str(ARTIFACTS / "bulk-paused-1280.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    assert fits_320(page), "the paused job's page is wider than 320 px"
    page.screenshot(path=str(ARTIFACTS / "bulk-paused-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    # One is recorded: the next poll counts it down, and the table shows it without a reload
    BulkRecipient(jobId=job.jobId, recipientId="r#000001", row=1, status="sent").save()
    expect(page.locator("#job-in-flight")).to_have_attribute("data-in-flight", "1", timeout=15_000)
    expect(page.locator("#recipients tbody tr[data-status=sent]")).to_have_count(1)
    expect(controls.get_by_role("button", name="Resume")).to_be_visible()
    controls.get_by_role("button", name="Cancel").click()
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#job-controls")).to_have_count(0)
    job.refresh(consistent_read=True)
    assert job.status == "cancelled"
