"""Starting a job returns with the job preparing; the bulk.prepare_job task writes its recipients
and chunks, and running it again (a retry, a redelivery, a DLQ replay) duplicates nothing and
never puts back to pending a recipient a worker has claimed."""

from __future__ import annotations

import pytest

from bulk import actions, preparation, sending
from bulk.audience import AudienceSpec
from bulk.models import BulkChunk, BulkJob, BulkPlan, BulkRecipient
from bulk.queries import all_recipients

from .conftest import sms

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """What start_job and the preparation queue, instead of running it: the queue is the seam under
    test (eager tasks would otherwise prepare and send inside start_job)."""
    calls: dict[str, list] = {"prepare": [], "chunks": []}
    monkeypatch.setattr(preparation.prepare_job, "apply_async", lambda args: calls["prepare"].append(args))
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: calls["chunks"].append((args, queue)))
    return calls


def start(operator, contacts, previewed: int) -> BulkJob:
    audience = AudienceSpec(contact_ids=[c.contactId for c in contacts])
    return actions.start_job(
        audience, sms(), channel="sms", sender=None, user=operator, confirm=True, previewed_count=previewed
    )


def test_the_start_writes_the_job_and_its_plan_and_leaves_the_recipients_to_the_task(make_contacts, operator, queued):
    contacts = [*make_contacts(130), *make_contacts(2, channel_opt_in={"optInSms": False})]
    job = start(operator, contacts, 130)
    job.refresh(consistent_read=True)
    assert (job.status, job.preparing, job.preparedRecipients, job.totalRecipients, job.skippedCount) == (
        "pending",
        True,
        0,
        132,
        2,
    )
    assert queued["prepare"] == [[job.jobId]] and queued["chunks"] == []
    assert list(all_recipients(job.jobId)) == []
    plan = list(BulkPlan.query(job.jobId, BulkPlan.recipientId.startswith("plan#")))
    assert sum(len(p.rows) for p in plan) == 132

    result = preparation.prepare_job.apply(args=[job.jobId]).get()
    assert result == {"state": "prepared", "recipients": 132, "chunks": 2}
    job.refresh(consistent_read=True)
    assert (job.preparing, job.preparedRecipients, job.status) == (False, 132, "pending")
    recipients = list(all_recipients(job.jobId))
    assert [r.contactId for r in recipients] == [c.contactId for c in contacts]  # the confirmed rows, in order
    assert [r.status for r in recipients].count("skipped") == 2
    assert queued["chunks"] == [([job.jobId, "chunk#00000"], "bulk-queue"), ([job.jobId, "chunk#00001"], "bulk-queue")]


def test_the_api_and_the_job_page_show_the_preparing_state(client, operator, make_contacts, queued):
    job = start(operator, make_contacts(3), 3)
    client.force_login(operator)
    shown = client.get(f"/api/bulk/jobs/{job.jobId}").json()
    assert (shown["status"], shown["preparing"], shown["preparedRecipients"], shown["progress"]["total"]) == (
        "pending",
        True,
        0,
        3,
    )
    page = client.get(f"/bulk/{job.jobId}/").content.decode()
    assert 'id="job-preparing"' in page and "Preparing: 0 of 3 recipients written" in page
    preparation.prepare_job.apply(args=[job.jobId])
    shown = client.get(f"/api/bulk/jobs/{job.jobId}").json()
    assert (shown["preparing"], shown["preparedRecipients"]) == (False, 3)
    assert 'id="job-preparing"' not in client.get(f"/bulk/{job.jobId}/").content.decode()


def test_preparing_again_duplicates_nothing_and_leaves_claimed_recipients_alone(make_contacts, operator, queued):
    job = start(operator, make_contacts(120), 120)
    preparation.prepare_job.apply(args=[job.jobId])
    first = {r.recipientId: r.status for r in all_recipients(job.jobId)}
    # A worker claims one and finishes another before the preparation is replayed.
    claimed = BulkRecipient.get(job.jobId, "r#000001")
    claimed.update(actions=[BulkRecipient.status.set("sending")])
    sent = BulkRecipient.get(job.jobId, "r#000101")
    sent.update(actions=[BulkRecipient.status.set("sent"), BulkRecipient.messageId.set("m-1")])
    chunk = BulkChunk.get(job.jobId, "chunk#00001")
    chunk.update(actions=[BulkChunk.tally.set({"sent": 1}), BulkChunk.tallyVersion.set(1)])

    again = preparation.prepare_job.apply(args=[job.jobId]).get()
    assert again == {"state": "prepared", "recipients": 120, "chunks": 2}
    after = {r.recipientId: r for r in all_recipients(job.jobId)}
    assert set(after) == set(first) and len(after) == 120
    assert after["r#000001"].status == "sending"
    assert (after["r#000101"].status, after["r#000101"].messageId) == ("sent", "m-1")
    chunks = list(BulkChunk.query(job.jobId, BulkChunk.recipientId.startswith("chunk#"), consistent_read=True))
    assert [len(c.recipientIds) for c in chunks] == [100, 20]
    assert (chunks[1].tally, chunks[1].tallyVersion) == ({"sent": 1}, 1)  # not reset by the second run
    job.refresh(consistent_read=True)
    assert job.preparedRecipients == 120


def test_a_replay_after_the_job_finished_queues_nothing(make_contacts, operator, queued):
    job = start(operator, make_contacts(2), 2)
    preparation.prepare_job.apply(args=[job.jobId])

    sending.run_chunk(job.jobId, "chunk#00000")  # DRY_RUN sends: the job completes
    queued["chunks"].clear()
    assert preparation.prepare_job.apply(args=[job.jobId]).get()["state"] == "finished"
    assert queued["chunks"] == []


def test_cancel_while_preparing_ends_with_every_recipient_cancelled(make_contacts, operator, queued):
    job = start(operator, make_contacts(3), 3)
    assert actions.control(job.jobId, "cancel", user=operator).status == "cancelled"
    preparation.prepare_job.apply(args=[job.jobId])

    for (job_id, chunk_id), _ in queued["chunks"]:
        sending.run_chunk(job_id, chunk_id)
    job.refresh(consistent_read=True)
    assert (job.status, job.cancelledCount, job.sentCount, job.completedAt is not None) == ("cancelled", 3, 0, True)
