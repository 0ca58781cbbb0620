"""The Bulk Messaging pages through Django's test client: the wizard's steps and their refusals,
the job page's controls by role, the report download. The browser test
(test_pages_browser.py) walks the same wizard and watches the progress bar move."""

from __future__ import annotations

import re
import string

import pytest
from django.conf import settings

from bulk import actions as bulk_actions
from bulk.audience import AudienceSpec
from bulk.models import BulkJob
from contacts import actions, consent
from messaging.outbound import template_catalog
from wecare.tests.naming import unique_name

pytestmark = pytest.mark.django_db


def make_contacts(operator, new_phone, name: str, n: int, **fields) -> list:
    return [
        actions.create_contact(
            {
                "name": f"{name} {string.ascii_lowercase[i // 26]}{string.ascii_lowercase[i % 26]}",
                "phone": new_phone(),
                **fields,
            },
            user=operator,
            source="test",
        )
        for i in range(n)
    ]


def walk_to_preview(
    client, *, search: str, opted_in: bool = False, channel: str = "sms", text: str = "Hello from bulk"
):
    response = client.post(
        "/bulk/new/", {"kind": "filter", "search": search, **({"opted_in": "on"} if opted_in else {})}
    )
    assert response.status_code == 302 and response["Location"] == "/bulk/new/message/"
    sender = {"sms": settings.SMS_POOL_ID, "email": settings.SES_SENDER_EMAIL}.get(
        channel, settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    )
    response = client.post(
        "/bulk/new/message/", {"channel": channel, "sender": sender, "kind": "text", "text": text, "action": "next"}
    )
    assert response.status_code == 302 and response["Location"] == "/bulk/new/preview/"
    return client.get("/bulk/new/preview/")


def test_the_preview_counts_recipients_to_send_and_refusals_per_reason(client_for, operator, new_phone):
    name = unique_name("Preview Pam")
    make_contacts(operator, new_phone, name, 3, optInSms=True)
    make_contacts(operator, new_phone, name, 2)  # no SMS consent
    response = walk_to_preview(client_for(operator), search=name)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-sendable="3"' in page and 'data-total="5"' in page
    assert 'data-reason="CONSENT_NEVER_GIVEN"' in page and 'data-count="2"' in page
    assert "has not agreed to SMS messages yet" in page
    assert "CONSENT_NEVER_GIVEN" not in re.sub(r"<[^>]+>", " ", page)  # the code only in data-reason
    assert 'id="estimate"' in page
    assert 'name="confirm"' not in page  # 3 is under the threshold: no confirmation box


def test_the_preview_tells_withdrawn_and_suppressed_consent_apart(client_for, operator, new_phone):
    name = unique_name("Preview Wes")
    stays = make_contacts(operator, new_phone, name, 4, optInSms=True)
    for contact in stays[:2]:  # replied STOP
        consent.change(contact, "sms", False, source="keyword", actor=consent.CUSTOMER, evidence={"keyword": "STOP"})
    consent.change(stays[2], "sms", False, source="sms_optout_list", actor=consent.PROVIDER, evidence={})
    page = walk_to_preview(client_for(operator), search=name).content.decode()
    assert 'data-sendable="1"' in page and 'data-total="4"' in page
    withdrawn = re.search(r'<tr data-reason="CONSENT_WITHDRAWN">.*?</tr>', page, flags=re.S)
    suppressed = re.search(r'<tr data-reason="SUPPRESSED">.*?</tr>', page, flags=re.S)
    assert withdrawn and 'data-count="2"' in withdrawn.group() and "turned SMS messages off" in withdrawn.group()
    assert suppressed and 'data-count="1"' in suppressed.group() and "SMS opt-out list" in suppressed.group()


def test_an_empty_filter_is_refused_with_a_form_error_and_nothing_is_kept(client_for, operator):
    client = client_for(operator)
    response = client.post("/bulk/new/", {"kind": "filter", "search": ""})
    assert response.status_code == 200
    assert "Give a search text, tick the opt-in box, or both." in response.content.decode()
    assert client.get("/bulk/new/message/")["Location"] == "/bulk/new/"


def test_a_csv_without_the_channels_address_column_is_shown_on_the_preview_with_the_reason(client_for, operator):
    client = client_for(operator)
    client.post("/bulk/new/", {"kind": "csv", "csv_text": "name,mail\nAnn,ann@example.com\n"})
    client.post(
        "/bulk/new/message/",
        {"channel": "sms", "sender": settings.SMS_POOL_ID, "kind": "text", "text": "Hi", "action": "next"},
    )
    response = client.get("/bulk/new/preview/")
    assert response.status_code == 422
    assert "needs a header row with a &#x27;phone&#x27; column for sms" in response.content.decode()


def test_a_sender_off_the_allowlist_is_refused_at_the_message_step(client_for, operator, new_phone):
    client = client_for(operator)
    client.post("/bulk/new/", {"kind": "filter", "search": unique_name("Nobody")})
    response = client.post(
        "/bulk/new/message/",
        {"channel": "sms", "sender": "pool-not-ours", "kind": "text", "text": "Hi", "action": "next"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "message" not in client.session["bulk_wizard"]


def test_an_unknown_channel_at_the_message_step_is_a_400_naming_the_channels(client_for, operator):
    client = client_for(operator)
    client.post("/bulk/new/", {"kind": "filter", "search": unique_name("Nobody")})
    response = client.post(
        "/bulk/new/message/",
        {"channel": "fax", "sender": settings.SMS_POOL_ID, "kind": "text", "text": "Hi", "action": "next"},
    )
    assert response.status_code == 400
    assert "Unknown channel 'fax': choose whatsapp, sms or email." in response.content.decode()
    assert "message" not in client.session["bulk_wizard"]


def test_above_the_threshold_starting_without_ticking_the_box_is_refused_and_nothing_starts(
    client_for, operator, new_phone
):
    name = unique_name("Confirm Cal")
    make_contacts(operator, new_phone, name, 21, optInSms=True)
    client = client_for(operator)
    preview = walk_to_preview(client, search=name)
    assert "Send to 21 recipients" in preview.content.decode()
    before = {job.jobId for job in BulkJob.scan()}
    response = client.post("/bulk/new/preview/", {"expected": "21"})
    assert response.status_code == 422
    assert "Tick the box to confirm the number of recipients" in response.content.decode()
    assert {job.jobId for job in BulkJob.scan()} == before


def test_a_count_that_changed_since_the_preview_is_refused(client_for, operator, new_phone):
    name = unique_name("Grown Gus")
    make_contacts(operator, new_phone, name, 21, optInSms=True)
    client = client_for(operator)
    walk_to_preview(client, search=name)
    make_contacts(operator, new_phone, name + " late", 1, optInSms=True)  # the audience grew after the preview
    response = client.post("/bulk/new/preview/", {"expected": "21", "confirm": "on"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "now has 22 sendable recipients, not 21" in page
    assert 'data-sendable="22"' in page  # the fresh preview is shown to confirm again


def test_a_viewer_sees_the_job_but_no_controls_and_cannot_start_or_control(client_for, operator, viewer, new_phone):
    name = unique_name("Viewer Val")
    make_contacts(operator, new_phone, name, 2, optInSms=True)
    make_contacts(operator, new_phone, f"{name} no consent", 1)
    job = bulk_actions.start_job(AudienceSpec(search=name), {"text": "Hi"}, channel="sms", sender=None, user=operator)
    client = client_for(viewer)
    page = client.get(f"/bulk/{job.jobId}/")
    assert page.status_code == 200
    # The skipped recipient's reason in words; its code only in data-reason.
    html = page.content.decode()
    assert '<td data-reason="CONSENT_NEVER_GIVEN">' in html and "has not agreed to SMS messages yet" in html
    assert "CONSENT_NEVER_GIVEN" not in re.sub(r"<[^>]+>", " ", html)
    assert 'id="job-progress"' in page.content.decode()
    assert 'id="job-controls"' not in page.content.decode()
    assert client.get("/bulk/").status_code == 200
    assert job.jobId in client.get("/bulk/").content.decode()
    assert client.get("/bulk/new/").status_code == 403
    assert client.post(f"/bulk/{job.jobId}/control/", {"action": "cancel"}).status_code == 403


def test_an_operator_pauses_and_a_second_press_gets_a_clear_conflict(client_for, operator, new_phone, settings):
    name = unique_name("Paused Pia")
    make_contacts(operator, new_phone, name, 2, optInSms=True)
    # Eager tasks would finish the job inside start_job; this test needs one still pending.
    from wecare.celery import app

    app.conf.task_always_eager = False
    try:
        job = bulk_actions.start_job(
            AudienceSpec(search=name), {"text": "Hi"}, channel="sms", sender=None, user=operator
        )
    finally:
        app.conf.task_always_eager = True
    client = client_for(operator)
    assert 'value="pause"' in client.get(f"/bulk/{job.jobId}/").content.decode()
    response = client.post(f"/bulk/{job.jobId}/control/", {"action": "pause"}, follow=True)
    page = response.content.decode()
    assert (
        "Paused. Nothing more goes out until you resume." in page
        and 'value="resume"' in page
        and 'value="pause"' not in page
    )
    response = client.post(f"/bulk/{job.jobId}/control/", {"action": "pause"}, follow=True)
    assert "Not done: The job is paused; it cannot pause now." in response.content.decode()
    client.post(f"/bulk/{job.jobId}/control/", {"action": "cancel"})
    job.refresh(consistent_read=True)
    assert job.status == "cancelled"


def test_the_report_downloads_once_written_and_an_unknown_job_is_404(client_for, operator, viewer, new_phone):
    name = unique_name("Report Rae")
    make_contacts(operator, new_phone, name, 2, optInSms=True)
    job = bulk_actions.start_job(AudienceSpec(search=name), {"text": "Hi"}, channel="sms", sender=None, user=operator)
    job.refresh(consistent_read=True)
    assert job.status == "completed" and job.reportKey
    client = client_for(viewer)
    response = client.get(f"/bulk/{job.jobId}/report.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert body.count("\n") >= 3 and "sent" in body
    assert client.get("/bulk/01NOTAREALID0000000000000/").status_code == 404
    assert client.get("/bulk/01NOTAREALID0000000000000/report.csv").status_code == 404


RUNAWAY_CSV = 'phone,param1\n+14155550123,"an opening quote never closed\n' + "x" * 140_000 + "\n"


def test_a_csv_the_csv_module_cannot_read_is_refused_at_the_audience_step_with_its_line(client_for, operator):
    client = client_for(operator)
    response = client.post("/bulk/new/", {"kind": "csv", "csv_text": RUNAWAY_CSV})
    assert response.status_code == 200
    assert "The CSV cannot be read at line 2: a cell is longer than 131,072 characters" in response.content.decode()
    assert "bulk_wizard" not in client.session  # nothing kept: the wizard cannot carry it on


def test_a_wizard_holding_an_unreadable_csv_shows_why_on_the_preview_and_gets_unstuck(client_for, operator, new_phone):
    client = client_for(operator)
    # As a wizard saved before the audience step checked the CSV: the preview used to be a 500
    # on every visit, with no way out but a new session.
    session = client.session
    session["bulk_wizard"] = {
        "audience": {"csv": RUNAWAY_CSV},
        "message": {"channel": "sms", "sender": settings.SMS_POOL_ID, "text": "Hi"},
    }
    session.save()
    response = client.get("/bulk/new/preview/")
    assert response.status_code == 422
    page = response.content.decode()
    assert "cannot be read at line 2" in page and 'href="/bulk/new/"' in page
    phone = new_phone()
    actions.create_contact(
        {"name": unique_name("Unstuck"), "phone": phone, "optInSms": True}, user=operator, source="test"
    )
    assert (
        client.post("/bulk/new/", {"kind": "csv", "csv_text": f"phone\n{phone}\n"})["Location"] == "/bulk/new/message/"
    )
    response = client.get("/bulk/new/preview/")
    assert response.status_code == 200 and 'data-sendable="1"' in response.content.decode()


def test_an_uploaded_csv_that_cannot_be_read_is_refused_on_the_file_field(client_for, operator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("audience.csv", RUNAWAY_CSV.encode(), content_type="text/csv")
    response = client_for(operator).post("/bulk/new/", {"kind": "csv", "csv_file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["csv_file"] == [
        "The CSV cannot be read at line 2: a cell is longer than 131,072 characters; "
        'most often a double quote (") opens a cell and is never closed.'
    ]


@pytest.fixture
def templates(fake_aws_clean):
    """The local fake's seeded templates in the catalog (seasonal_offer: "Dear {{1}}, enjoy {{2}} off…")."""
    template_catalog.sync_templates()


def test_the_message_step_asks_a_field_per_template_variable_and_says_which_are_missing(
    client_for, operator, new_phone, templates
):
    name = unique_name("Template Tara")
    make_contacts(operator, new_phone, name, 1, optInWhatsApp=True)
    client = client_for(operator)
    client.post("/bulk/new/", {"kind": "filter", "search": name, "opted_in": "on"})
    step = {
        "channel": "whatsapp",
        "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        "kind": "template",
        "template": "seasonal_offer|en_US",
    }
    page = client.post("/bulk/new/message/", step).content.decode()  # picking the template redraws the step
    assert 'name="body_1"' in page and 'name="body_2"' in page and 'placeholder="e.g. Kabir"' in page
    assert "one per line" not in page and 'name="body_params"' not in page
    assert "data-template-preview" in page and 'data-fill="body-2"' in page and 'data-fills="body-2"' in page

    # One value of two: the step says which is empty, in words, and does not go on to the preview.
    response = client.post("/bulk/new/message/", {**step, "body_1": "Kabir", "action": "next"})
    assert response.status_code == 200
    refused = response.content.decode()
    [sentences] = re.findall(r'<ul class="errorlist" role="alert" data-field="template">(.*?)</ul>', refused)
    assert "value 2 is empty" in sentences and "template.parameters" not in refused
    assert 'value="Kabir"' in refused  # what was typed is kept
    assert "bulk_wizard" not in client.session or "message" not in client.session["bulk_wizard"]

    response = client.post("/bulk/new/message/", {**step, "body_1": "Kabir", "body_2": "15%", "action": "next"})
    assert response.status_code == 302 and response["Location"] == "/bulk/new/preview/"
    assert client.session["bulk_wizard"]["message"]["template"]["parameters"]["body"] == ["Kabir", "15%"]
    preview = client.get("/bulk/new/preview/").content.decode()
    assert "Dear Kabir, enjoy 15% off this month." in preview  # the text the customer reads
    # Back from the preview, the step shows the values typed.
    again = client.get("/bulk/new/message/").content.decode()
    assert 'name="body_1" value="Kabir"' in again and 'name="body_2" value="15%"' in again


def test_a_csv_audiences_columns_fill_the_template_and_its_fields_say_a_csv_value_wins(
    client_for, operator, new_phone, templates
):
    contact = make_contacts(operator, new_phone, unique_name("Csv Chandra"), 1, optInWhatsApp=True)[0]
    client = client_for(operator)
    step = {
        "channel": "whatsapp",
        "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        "kind": "template",
        "template": "seasonal_offer|en_US",
        "action": "next",
    }
    # A CSV with param1 but no param2: the step names the missing column (its columns replace every typed value).
    client.post("/bulk/new/", {"kind": "csv", "csv_text": f"phone,param1\n{contact.phone},Chandra\n"})
    page = client.post("/bulk/new/message/", {**step, "action": ""}).content.decode()
    assert "no param2 column" in page
    response = client.post("/bulk/new/message/", {**step, "body_2": "20%"})
    assert response.status_code == 200 and "no param2 column" in response.content.decode()

    client.post("/bulk/new/", {"kind": "csv", "csv_text": f"phone,param1,param2\n{contact.phone},Chandra,20%\n"})
    page = client.post("/bulk/new/message/", {**step, "action": ""}).content.decode()
    assert "data-csv-values" in page
    assert re.search(r'data-hint-for="body_1">[^<]*param1 column; a CSV value wins', page)
    assert re.search(r'data-hint-for="body_2">[^<]*param2 column; a CSV value wins', page)
    # The step's preview names the CSV's columns where their values go, and typing does not replace them.
    assert "[param1 from your CSV]" in page and "[param2 from your CSV]" in page
    assert 'data-fills="body-1"' not in page
    # Nothing typed is needed: each recipient's values come from the CSV, and the CSV's win.
    response = client.post("/bulk/new/message/", {**step, "body_1": "Typed"})
    assert response.status_code == 302 and response["Location"] == "/bulk/new/preview/"
    preview = client.get("/bulk/new/preview/")
    assert preview.status_code == 200, preview.content.decode()[-2000:]
    assert "Dear Chandra, enjoy 20% off this month." in preview.content.decode()
    assert 'data-csv-row="1"' in preview.content.decode()
