"""What makes a campaign trustworthy, through actions and the Django client: its name, the warning
before sending the same content to the same people again, what a pause says is still in flight, the
recipient table that follows the progress poll, and the sent → delivered → read → replied funnel."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bulk import actions as bulk_actions
from bulk import funnel, queries
from bulk.audience import AudienceSpec
from bulk.models import BulkJob, BulkRecipient
from contacts.models import Contact
from messaging.models import Message
from wecare.celery import app
from wecare.dynamo import now
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_sends(settings):
    """Rate limits these small jobs never approach: the tests are about what is recorded, not pacing."""
    settings.RATE_LIMIT_SMS = 1000
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER = 1000


def audience(contacts) -> AudienceSpec:
    return AudienceSpec(contact_ids=[c.contactId for c in contacts])


def start(contacts, operator, text: str = "Hi", **options):
    return bulk_actions.start_job(
        audience(contacts), {"text": text}, channel="sms", sender=None, user=operator, **options
    )


def test_a_job_has_the_name_it_was_given_or_one_made_of_its_message_and_time(client_for, operator, make_contacts):
    named = start(make_contacts(2), operator, name="  Diwali offer,\nweek 1 ")
    assert named.name == "Diwali offer, week 1"
    unnamed = start(make_contacts(2), operator, text="Our shop opens at nine tomorrow, come early")
    assert unnamed.name.startswith("Our shop opens at nine tomorro · ")
    client = client_for(operator)
    listing = client.get("/bulk/").content.decode()
    assert "Diwali offer, week 1" in listing and unnamed.name in listing
    page = client.get(f"/bulk/{named.jobId}/").content.decode()
    assert '<h1 class="job-title">Diwali offer, week 1</h1>' in page
    assert client.get(f"/api/bulk/jobs/{named.jobId}").json()["name"] == "Diwali offer, week 1"


def test_the_same_message_to_the_same_people_again_needs_an_explicit_confirmation(operator, make_contacts):
    contacts = make_contacts(3)
    first = start(contacts, operator, text="Sale ends tonight", name="Sale reminder")
    more = [*contacts[:2], *make_contacts(1)]
    preview = bulk_actions.preview(
        audience(more), {"text": "Sale ends tonight"}, channel="sms", sender=None, user=operator
    )
    ((repeat),) = preview.repeats
    assert (repeat.job_id, repeat.title, repeat.overlap) == (first.jobId, "Sale reminder", 2)
    with pytest.raises(FieldErrors) as refused:
        start(more, operator, text="Sale ends tonight")
    assert "went to 2 of these recipients in “Sale reminder”" in refused.value.errors["confirmRepeat"]
    again = start(more, operator, text="Sale ends tonight", confirm_repeat=True)
    assert again.jobId != first.jobId
    # Other content, or other people, is no repeat
    assert not bulk_actions.preview(
        audience(more), {"text": "New stock"}, channel="sms", sender=None, user=operator
    ).repeats
    assert start(make_contacts(2), operator, text="Sale ends tonight").jobId != first.jobId


def test_the_repeat_window_is_a_setting_and_zero_turns_the_check_off(operator, make_contacts, settings):
    contacts = make_contacts(2)
    start(contacts, operator, text="Twice is fine here")
    settings.BULK_REPEAT_WARNING_HOURS = 0
    assert start(contacts, operator, text="Twice is fine here").status


def test_the_repeat_check_queries_its_window_of_the_content_index_and_never_scans_the_jobs(
    operator, make_contacts, monkeypatch
):
    """The jobs table grows with every campaign: the check reads one key's jobs of the window."""
    contacts = make_contacts(2)
    old = start(contacts, operator, text="Sale ends tonight, old", name="Old sale")
    old.update(actions=[BulkJob.createdAt.set(now() - timedelta(hours=25))])  # before the 24-hour window
    recent = start(contacts, operator, text="Sale ends tonight, old", confirm_repeat=True)

    def no_scan(*args, **kwargs):
        raise AssertionError("the repeat check scanned BulkJobs")

    monkeypatch.setattr(BulkJob, "scan", no_scan)
    preview = bulk_actions.preview(
        audience(contacts), {"text": "Sale ends tonight, old"}, channel="sms", sender=None, user=operator
    )
    assert [r.job_id for r in preview.repeats] == [recent.jobId]  # the older job is outside the window


def test_the_api_answers_a_repeat_with_422_until_confirm_repeat(client_for, operator, make_contacts):
    contacts = make_contacts(2)
    body = {
        "audience": {"contactIds": [c.contactId for c in contacts]},
        "channel": "sms",
        "message": {"text": "Api twice"},
    }
    client = client_for(operator)
    assert client.post("/api/bulk/jobs", body, content_type="application/json").status_code == 201
    preview = client.post("/api/bulk/jobs/preview", body, content_type="application/json").json()
    assert preview["repeats"][0]["overlap"] == 2
    refused = client.post("/api/bulk/jobs", body, content_type="application/json")
    assert refused.status_code == 422 and "confirmRepeat" in json.dumps(refused.json())
    confirmed = client.post("/api/bulk/jobs", {**body, "confirmRepeat": True}, content_type="application/json")
    assert confirmed.status_code == 201


def test_the_wizard_warns_of_a_repeat_and_starts_only_with_the_box_ticked(client_for, operator, make_contacts):
    from bulk.tests.test_pages import walk_to_preview

    contacts = make_contacts(2, tag="Repeat Rita")
    start(contacts, operator, text="Hello from bulk", name="First go")
    client = client_for(operator)
    page = walk_to_preview(client, search="Bulk Repeat Rita").content.decode()
    assert 'id="repeat-warning"' in page and "First go" in page and "2 of them" in page
    key = page.split('name="start_key" value="')[1].split('"')[0]
    refused = client.post("/bulk/new/preview/", {"expected": 2, "start_key": key})
    assert refused.status_code == 422 and "Tick “Send it to them again”" in refused.content.decode()
    started = client.post("/bulk/new/preview/", {"expected": 2, "start_key": key, "confirm_repeat": "on"})
    assert started.status_code == 302


def test_a_pause_says_how_many_messages_are_already_with_the_provider(client_for, operator, make_contacts):
    app.conf.task_always_eager = False  # the job must still be running when it is paused
    try:
        job = start(make_contacts(3), operator)
    finally:
        app.conf.task_always_eager = True
    # Two recipients claimed by a worker (as a chunk does before its provider calls)
    for index in (1, 2):
        BulkRecipient(jobId=job.jobId, recipientId=f"r#{index:06d}", status="sending").save()
    client = client_for(operator)
    response = client.post(f"/bulk/{job.jobId}/control/", {"action": "pause"}, follow=True)
    page = response.content.decode()
    assert "Paused. 2 messages already with the provider will still go." in page
    assert 'data-in-flight="2"' in page
    BulkRecipient(jobId=job.jobId, recipientId="r#000001", status="sent").save()
    poll = client.get(f"/bulk/{job.jobId}/", headers={"HX-Request": "true", "HX-Target": "job-progress"})
    assert 'data-in-flight="1"' in poll.content.decode()
    client.post(f"/bulk/{job.jobId}/control/", {"action": "cancel"})


def test_the_progress_poll_brings_the_recipient_table_with_it(client_for, operator, make_contacts):
    job = start(make_contacts(3), operator)
    poll = client_for(operator).get(f"/bulk/{job.jobId}/", headers={"HX-Request": "true", "HX-Target": "job-progress"})
    page = poll.content.decode()
    assert 'id="job-progress"' in page and '<div id="recipients-live" hx-swap-oob="true">' in page
    assert page.count('<tr data-status="sent">') == 3 and "No recipients" not in page


def test_the_funnel_counts_delivered_read_replied_and_failed_from_what_is_recorded(client_for, operator, make_contacts):
    contacts = make_contacts(4, in_window=True)
    job = bulk_actions.start_job(
        audience(contacts), {"text": "Window hello"}, channel="whatsapp", sender=None, user=operator
    )
    sent = [r for r in queries.all_recipients(job.jobId) if r.status == "sent"]
    assert len(sent) == 4
    by_contact = {r.contactId: r for r in sent}
    statuses = ["read", "delivered", "failed", "sent"]
    for contact, status in zip(contacts, statuses, strict=True):
        message = Message.get(by_contact[contact.contactId].messageId)
        message.update(actions=[Message.status.set(status)])
    # The first customer wrote back after the send; the second wrote only before it
    first = by_contact[contacts[0].contactId]
    Contact(contactId=contacts[0].contactId).update(
        actions=[Contact.lastInboundMessageAt.set(first.sentAt + timedelta(minutes=3))]
    )
    result = funnel.funnel(queries.get_job(job.jobId))
    assert (result.sent, result.delivered, result.read, result.replied, result.failed) == (4, 2, 1, 1, 1)
    page = client_for(operator).get(f"/bulk/{job.jobId}/funnel/").content.decode()
    assert (
        '<li data-stage="replied">' in page
        and '<strong data-count="1">1</strong> <span class="muted">25%</span>' in page
    )
    assert 'hx-get="/bulk/' in client_for(operator).get(f"/bulk/{job.jobId}/").content.decode()


def test_a_job_that_has_sent_nothing_shows_an_empty_sent_bar():
    nothing = funnel.Funnel(sent=0, delivered=0, read=0, replied=0, failed=0, replies_counted=True)
    assert [percent for *_, percent in nothing.stages] == [0, 0, 0, 0]
    some = funnel.Funnel(sent=4, delivered=2, read=1, replied=0, failed=0, replies_counted=False)
    assert [percent for *_, percent in some.stages] == [100, 50, 25]


def test_an_sms_campaign_counts_no_replies(operator, make_contacts):
    job = start(make_contacts(2), operator, text="Sms funnel")
    result = funnel.funnel(queries.get_job(job.jobId))
    assert result.sent == 2 and not result.replies_counted
    assert [stage[0] for stage in result.stages] == ["sent", "delivered", "read"]
