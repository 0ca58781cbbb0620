"""Preview, the confirmation rule, the tier, chunking, and the job's status transitions."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bulk import actions, queries, sending
from bulk.audience import AudienceSpec
from bulk.batching import write_all
from bulk.models import BulkChunk, BulkJob, BulkRecipient
from bulk.queries import all_recipients
from bulk.tests.conftest import sms
from contacts.models import Contact
from messaging.outbound.send import Refused
from wecare.errors import Conflict, FieldErrors

pytestmark = pytest.mark.django_db


def ids(contacts: list[Contact]) -> AudienceSpec:
    return AudienceSpec(contact_ids=[c.contactId for c in contacts])


def test_preview_counts_sendable_and_each_refusal_reason(make_contacts, operator):
    ok = make_contacts(3)
    no_opt_in = make_contacts(2, channel_opt_in={"optInSms": False})
    deleted = make_contacts(1, deletedAt=ok[0].createdAt)
    no_phone = make_contacts(1, phone=None)
    audience = ids([*ok, *no_opt_in, *deleted, *no_phone, ok[0]])  # ok[0] twice

    result = actions.preview(audience, sms(), channel="sms", sender=None, user=operator)

    assert (result.total, result.sendable) == (8, 3)
    assert result.refused == {"CONSENT_NEVER_GIVEN": 2, "CONTACT_DELETED": 1, "NO_ADDRESS": 1, "DUPLICATE": 1}
    assert result.needs_confirmation is False
    assert result.estimated_seconds == pytest.approx(3 / 5, abs=0.1)  # SMS: 5 per second


def test_a_csv_row_without_a_live_contact_is_refused_and_never_creates_one(make_contacts, operator, new_phone):
    known = make_contacts(2)
    stranger = new_phone()
    csv_text = "phone,name\n" + "\n".join([known[0].phone + ",A", stranger + ",B", "12,C", known[1].phone + ",D"])

    result = actions.preview(AudienceSpec(csv_text=csv_text), sms(), channel="sms", sender=None, user=operator)

    assert (result.total, result.sendable) == (4, 2)
    assert result.refused == {"NO_CONTACT": 1, "INVALID_ADDRESS": 1}
    assert list(Contact.by_phone.query(stranger)) == []


def test_csv_parameter_columns_need_a_template(make_contacts, operator):
    known = make_contacts(1)
    with pytest.raises(FieldErrors) as error:
        actions.preview(
            AudienceSpec(csv_text=f"phone,param1\n{known[0].phone},Asha\n"),
            sms(),
            channel="sms",
            sender=None,
            user=operator,
        )
    assert "template" in error.value.errors["audience.csv"]


def test_an_audience_must_name_exactly_one_kind(operator):
    with pytest.raises(FieldErrors):
        actions.preview(AudienceSpec(), sms(), channel="sms", sender=None, user=operator)
    with pytest.raises(FieldErrors):
        actions.preview(AudienceSpec(search="x", contact_ids=["a"]), sms(), channel="sms", sender=None, user=operator)


def test_21_recipients_without_confirmation_are_refused_with_what_to_do(make_contacts, operator):
    audience = ids(make_contacts(21))
    with pytest.raises(FieldErrors) as error:
        actions.start_job(audience, sms(), channel="sms", sender=None, user=operator)
    assert "confirm=true and previewedCount=21" in error.value.errors["confirm"]


def test_20_recipients_need_no_confirmation(make_contacts, operator, live_fake):
    job = actions.start_job(ids(make_contacts(20)), sms(), channel="sms", sender=None, user=operator)
    assert queries.get_job(job.jobId).status == "completed"


def test_a_previewed_count_that_no_longer_matches_is_refused(make_contacts, operator):
    contacts = make_contacts(22)
    audience = ids(contacts)
    assert actions.preview(audience, sms(), channel="sms", sender=None, user=operator).sendable == 22
    contacts[0].update(actions=[Contact.optInSms.set(False)])  # someone opts out after the preview
    with pytest.raises(FieldErrors) as error:
        actions.start_job(audience, sms(), channel="sms", sender=None, user=operator, confirm=True, previewed_count=22)
    assert "21 sendable recipients, not 22" in error.value.errors["previewedCount"]


def test_a_job_above_the_whatsapp_tier_is_refused_at_preview_and_at_start(
    make_contacts, operator, settings, fake_aws_clean, client_for
):
    from messaging.outbound.template_catalog import sync_templates

    sync_templates()  # the fake's seeded templates, order_update among them
    settings.WHATSAPP_TIER_LIMIT = 3
    # order_update's header is an image: the job names an uploaded file for it.
    photo = SimpleUploadedFile(
        "order.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, content_type="image/jpeg"
    )
    header = client_for(operator).post("/api/messages/media", {"file": photo}).json()
    parameters = {"body": ["Asha", "A-1"], "headerMedia": {"s3Key": header["s3Key"], "contentType": "image/jpeg"}}
    template = {"template": {"name": "order_update", "language": "en_US", "parameters": parameters}}
    audience = ids(make_contacts(5))  # outside their window: business-initiated
    result = actions.preview(audience, template, channel="whatsapp", sender=None, user=operator)
    assert result.tier.business_initiated == 5
    assert result.tier.shortfall >= 2 and not result.tier.allows
    with pytest.raises(Refused) as refusal:
        actions.start_job(audience, template, channel="whatsapp", sender=None, user=operator)
    assert refusal.value.code == "TIER_LIMIT"


def test_recipients_in_their_window_do_not_count_against_the_tier(make_contacts, operator, settings, fake_aws_clean):
    settings.WHATSAPP_TIER_LIMIT = 1
    result = actions.preview(
        ids(make_contacts(4, in_window=True)), sms(), channel="whatsapp", sender=None, user=operator
    )
    assert (result.sendable, result.tier.business_initiated, result.tier.allows) == (4, 0, True)


def test_chunks_hold_exactly_100_recipients_and_refused_rows_are_written_skipped(make_contacts, operator):
    # The preparation task runs eagerly here (as on a worker); only the chunks' queueing is caught.
    sent_tasks = []
    contacts = [*make_contacts(250), *make_contacts(3, channel_opt_in={"optInSms": False})]
    original = sending.send_chunk.apply_async
    sending.send_chunk.apply_async = lambda args, queue: sent_tasks.append(
        (args, queue)
    )  # the queue is the seam under test here
    try:
        job = actions.start_job(
            ids(contacts), sms(), channel="sms", sender=None, user=operator, confirm=True, previewed_count=250
        )
    finally:
        sending.send_chunk.apply_async = original
    chunks = list(BulkChunk.query(job.jobId, BulkChunk.recipientId.startswith("chunk#")))
    assert [len(c.recipientIds) for c in chunks] == [100, 100, 50]
    assert sent_tasks == [([job.jobId, c.recipientId], "bulk-queue") for c in chunks]
    statuses = [r.status for r in all_recipients(job.jobId)]
    assert statuses.count("pending") == 250 and statuses.count("skipped") == 3
    job.refresh(consistent_read=True)
    assert (job.totalRecipients, job.skippedCount, job.status, job.chunkCount) == (253, 3, "pending", 3)
    assert job.preparedAt is not None and job.preparedRecipients == 253


def test_batch_writes_retry_unprocessed_items_with_backoff(make_contacts):
    from wecare.aws import client

    real = client("dynamodb").batch_write_item
    calls: list[int] = []

    def flaky(RequestItems):  # DynamoDB hands back part of a batch as UnprocessedItems
        calls.append(sum(len(v) for v in RequestItems.values()))
        if len(calls) == 1:
            table, puts = next(iter(RequestItems.items()))
            real(RequestItems={table: puts[:5]})
            return {"UnprocessedItems": {table: puts[5:]}}
        return real(RequestItems=RequestItems)

    pauses: list[float] = []
    items = [BulkRecipient(jobId="batch-test", recipientId=f"r#{i:06d}", status="pending") for i in range(30)]
    write_all(items, sleep=pauses.append, batch_write=flaky)
    assert calls == [25, 20, 5] and pauses == [0.05]
    assert len(list(BulkRecipient.query("batch-test"))) == 30


def _job(operator, make_contacts) -> BulkJob:
    original = sending.send_chunk.apply_async
    sending.send_chunk.apply_async = lambda args, queue: (
        None
    )  # chunks are driven by the test itself (preparation runs eagerly)
    try:
        return actions.start_job(ids(make_contacts(3)), sms(), channel="sms", sender=None, user=operator)
    finally:
        sending.send_chunk.apply_async = original


def test_illegal_transitions_are_409_with_the_current_state(operator, make_contacts):
    job = _job(operator, make_contacts)
    with pytest.raises(Conflict) as error:
        actions.control(job.jobId, "resume", user=operator)
    assert "pending" in str(error.value)
    assert actions.control(job.jobId, "cancel", user=operator).status in ("cancelled",)
    for action in ("pause", "resume", "cancel"):
        with pytest.raises(Conflict):
            actions.control(job.jobId, action, user=operator)


def test_of_two_people_pausing_at_once_exactly_one_wins(operator, admin_user, make_contacts):
    job = _job(operator, make_contacts)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def press(user):
        barrier.wait()
        try:
            actions.control(job.jobId, "pause", user=user)
            outcomes.append("paused")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=press, args=(u,)) for u in (operator, admin_user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "paused"]
    assert queries.get_job(job.jobId).status == "paused"


def test_every_transition_is_audited(operator, make_contacts):
    from wecare.models import AuditLog

    job = _job(operator, make_contacts)
    actions.control(job.jobId, "pause", user=operator)
    logged = {e.action for e in AuditLog.scan(AuditLog.resourceId == job.jobId)}
    assert {"bulk.start", "bulk.pause"} <= logged
