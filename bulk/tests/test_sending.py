"""Chunk workers driven step by step: exactly-once sends, pause / resume / cancel between
messages, the report against the recipients table, the stuck sweep, DLQ parking and replay.

Sends are LIVE to the local fake, so ``fake_aws.calls("SendTextMessage")`` counts provider
calls at the sender boundary."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from bulk import actions, queries, sending, sweep
from bulk.audience import AudienceSpec
from bulk.models import BulkChunk, BulkRecipient
from bulk.queries import all_recipients
from bulk.tests.conftest import sms
from messaging.models import Message
from messaging.tests.counts import counted_since, hours_since, totals
from wecare import safe_csv
from wecare.aws import client
from wecare.dynamo import now

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(operator, make_contacts, monkeypatch):
    """Start a job whose chunks are handed to the test instead of a queue (the seam under
    test is the chunk itself, run by the test in the order it chooses)."""
    chunks: list[list[str]] = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: chunks.append(args))

    def start(n: int):
        # The preparation (bulk.prepare_job) runs eagerly and queues the chunks into the list.
        job = actions.start_job(
            AudienceSpec(contact_ids=[c.contactId for c in make_contacts(n)]),
            sms(),
            channel="sms",
            sender=None,
            user=operator,
            confirm=True,
            previewed_count=n,
        )
        return job, chunks

    return start


def statuses(job_id: str) -> list[str]:
    return [r.status for r in all_recipients(job_id)]


def called_numbers(fake) -> list[str]:
    return [c["params"]["DestinationPhoneNumber"] for c in fake.calls("SendTextMessage")]


def test_a_job_runs_to_completion_with_one_message_per_recipient(queued, live_fake, small_chunks):
    total = small_chunks + small_chunks // 2 + 3  # two chunks, the second partly full
    job, chunks = queued(total)
    assert len(chunks) == 2
    for args in chunks:
        sending.run_chunk(*args)
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount, job.finished_count) == ("completed", total, total)
    recipients = list(all_recipients(job.jobId))
    assert sorted(called_numbers(live_fake)) == sorted(r.address for r in recipients)
    message = Message.get(recipients[0].messageId)
    assert (message.bulkJobId, message.status, message.contactId) == (job.jobId, "sent", recipients[0].contactId)
    assert job.reportKey


def test_a_redelivered_chunk_sends_nothing_twice(queued, live_fake):
    job, chunks = queued(30)
    started = now()
    before = totals(hours_since(started))
    sending.run_chunk(*chunks[0])
    again = sending.run_chunk(*chunks[0])  # SQS redelivery, a retry, a DLQ replay: the same args
    assert again == {"state": "done"}
    # The dashboard's counters: each recorded outcome once, the redelivery nothing.
    sent = queries.get_job(job.jobId).sentCount
    assert sent and counted_since(started, before) == Counter(sms_attempted=sent, sms_sent=sent, bulk_sent=sent)
    assert len(called_numbers(live_fake)) == 30
    job = queries.get_job(job.jobId)
    assert (job.sentCount, job.finished_count) == (30, 30)  # counted once


@pytest.mark.parametrize("in_flight", [1, 8])
def test_pause_stops_between_messages_and_resume_sends_the_rest(
    queued, live_fake, operator, monkeypatch, settings, in_flight
):
    settings.BULK_SEND_CONCURRENCY = in_flight
    # One chunk, long enough that a pause honoured late (the bound below: 43 at 8 in flight) still
    # leaves recipients unsent for the resume.
    job, chunks = queued(50)
    real = sending._send_one
    sent = []

    def pause_after_15(*args, **kwargs):
        outcome = real(*args, **kwargs)
        sent.append(outcome)
        if len(sent) == 15:
            actions.control(job.jobId, "pause", user=operator)  # pressed while the chunk runs
        return outcome

    monkeypatch.setattr(sending, "_send_one", pause_after_15)
    assert sending.run_chunk(*chunks[0])["state"] == "paused"
    after_pause = statuses(job.jobId).count("sent")
    if in_flight == 1:
        assert after_pause == 20  # one call at a time: honoured at the next claim (every 10)
    else:
        # Honoured at the next claim too; what was claimed by then (at most the calls in flight
        # and a claim batch, and one batch claimed as the pause was pressed) still goes out.
        assert 15 <= after_pause <= 15 + in_flight + 2 * sending.CLAIM_BATCH
    assert queries.get_job(job.jobId).sentCount == after_pause
    assert sending.run_chunk(*chunks[0]) == {"state": "paused"}  # a paused job's chunk sends nothing
    monkeypatch.setattr(sending, "_send_one", real)
    chunks.clear()
    actions.control(job.jobId, "resume", user=operator)  # queues the unfinished chunk again
    assert len(chunks) == 1
    sending.run_chunk(*chunks[0])
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount) == ("completed", 50)
    assert len(called_numbers(live_fake)) == 50


def test_cancel_turns_the_pending_recipients_cancelled(queued, live_fake, operator, small_chunks):
    job, chunks = queued(small_chunks + small_chunks // 2)
    sending.run_chunk(*chunks[0])
    actions.control(job.jobId, "cancel", user=operator)
    for args in chunks:
        sending.run_chunk(*args)  # the queued chunk now cancels instead of sending
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount, job.cancelledCount) == ("cancelled", small_chunks, small_chunks // 2)
    assert job.completedAt is not None and job.reportKey
    assert len(called_numbers(live_fake)) == small_chunks


def test_the_report_matches_the_recipients_table(queued, live_fake, settings):
    job, chunks = queued(12)
    for args in chunks:
        sending.run_chunk(*args)
    body = report_of(job.jobId)
    rows = [cells for _, cells in safe_csv.read(body).rows]  # the phones are written '+1…: see below
    table = list(all_recipients(job.jobId))
    assert [(r["recipient"], r["contactId"], r["status"], r["messageId"]) for r in rows] == [
        (t.address, t.contactId, t.status, t.messageId) for t in table
    ]
    call_command("bulk_report", job.jobId)  # regenerates the same
    with pytest.raises(CommandError, match="no bulk job"):
        call_command("bulk_report", "01NOSUCHJOB")


def report_of(job_id: str) -> str:
    return (
        client("s3")
        .get_object(Bucket=settings.REPORT_BUCKET, Key=queries.get_job(job_id).reportKey)["Body"]
        .read()
        .decode()
    )


def test_the_report_writes_what_an_audience_csv_said_as_text(operator, make_contacts, live_fake, monkeypatch):
    chunks: list[list[str]] = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: chunks.append(args))
    [contact] = make_contacts(1)
    formula = "=cmd|' /C calc'!A0"
    audience = AudienceSpec(csv_text=f"phone,name\n{contact.phone},Ann\n{formula},Mallory\n")
    job = actions.start_job(audience, sms(), channel="sms", sender=None, user=operator, confirm=True, previewed_count=1)
    for args in chunks:
        sending.run_chunk(*args)
    [header, sent, refused] = list(csv.reader(io.StringIO(report_of(job.jobId))))  # as a spreadsheet splits it
    assert (header[1], sent[1], sent[3]) == ("recipient", "'" + contact.phone, "sent")
    assert (refused[1], refused[3], refused[4]) == ("'" + formula, "skipped", "INVALID_ADDRESS")


def test_recipients_stuck_in_sending_become_unknown_never_resent(queued, live_fake):
    job, chunks = queued(5)
    stuck = next(iter(BulkRecipient.batch_get([(job.jobId, BulkChunk.get(job.jobId, chunks[0][1]).recipientIds[0])])))
    assert sending._claim(stuck)  # a worker claimed it and died before sending or recording
    sending.run_chunk(*chunks[0])
    assert queries.get_job(job.jobId).status == "running"  # 4 sent, 1 neither sent nor pending
    # The sweep covers every job in the table, and other tests' jobs share it: look at this one's.
    assert job.jobId not in sweep.sweep_stuck(older_than=timedelta(hours=1))  # not stuck long enough yet
    assert sweep.sweep_stuck(older_than=timedelta(0)).get(job.jobId) == 1
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount, job.unknownCount) == ("completed", 4, 1)
    assert stuck.address not in called_numbers(live_fake)
    assert BulkRecipient.get(job.jobId, stuck.recipientId).reason == "WORKER_LOST"


def test_the_sweep_counts_a_running_job_with_no_progress_for_ten_minutes(queued, capsys, caplog):
    """The metric the stalled-job alarm watches (BulkJobsStalled, wecare/infrastructure/alarms.py)."""
    from bulk.models import BulkJob
    from wecare.dynamo import now

    job, _chunks = queued(2)
    # Its chunks are never run: the job, made running ten minutes ago, never moves.
    BulkJob(jobId=job.jobId).update(
        actions=[
            BulkJob.status.set("running"),
            BulkJob.updatedAt.set(now() - sweep.STALLED_AFTER - timedelta(minutes=1)),
        ]
    )
    capsys.readouterr()
    sweep.sweep_stuck()
    [metric] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"BulkJobsStalled"' in line]
    assert metric["BulkJobsStalled"] >= 1  # other tests' jobs share the table
    assert any(job.jobId in getattr(r, "job_ids", []) for r in caplog.records)
    BulkJob(jobId=job.jobId).update(actions=[BulkJob.status.set("paused")])  # not stalled for later sweeps


def test_a_chunk_recorded_but_never_counted_is_counted_by_the_sweep(queued, live_fake, monkeypatch):
    """A worker killed after recording a chunk's outcomes and before counting them into the job:
    until SQS redelivers the chunk (or if it never does), the sweep counts it, once."""
    job, chunks = queued(5)
    with monkeypatch.context() as died:
        died.setattr(sending, "reconcile_chunk", lambda *args, **kwargs: {})
        died.setattr(sending, "finish_if_done", lambda *args, **kwargs: False)
        sending.run_chunk(*chunks[0])
    assert {r.status for r in all_recipients(job.jobId)} == {"sent"}
    assert (queries.get_job(job.jobId).status, queries.get_job(job.jobId).sentCount) == ("running", 0)
    # Nobody of this job was left sending (the sweep covers every job; other tests' jobs share the table).
    assert job.jobId not in sweep.sweep_stuck(older_than=timedelta(0))
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount) == ("completed", 5)
    sweep.sweep_stuck(older_than=timedelta(0))
    sending.run_chunk(*chunks[0])  # the chunk redelivered after all
    assert queries.get_job(job.jobId).sentCount == 5  # counted once
    assert len(called_numbers(live_fake)) == 5


def test_a_chunk_that_keeps_failing_is_parked_on_bulk_dlq_and_replays(queued, live_fake, monkeypatch):
    from wecare import dlq
    from wecare.models import DLQMessage

    job, chunks = queued(3)
    real = sending.chunk_recipients

    def unreachable(*args, **kwargs):
        raise ConnectionError("DynamoDB unreachable")  # the failure the retries cannot fix

    monkeypatch.setattr(sending, "chunk_recipients", unreachable)
    sending.send_chunk.apply(args=chunks[0], retries=sending.send_chunk.max_retries)  # the last retry
    parked = [m for m in DLQMessage.scan() if m.queueName == "bulk-dlq" and job.jobId in m.payload]
    assert len(parked) == 1
    monkeypatch.setattr(sending, "chunk_recipients", real)
    report = dlq.replay("bulk-dlq")
    assert report.replayed >= 1
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount) == ("completed", 3)


def chunk_recipients(job_id: str, chunk_id: str) -> list[BulkRecipient]:
    ids = BulkChunk.get(job_id, chunk_id).recipientIds
    found = {r.recipientId: r for r in BulkRecipient.batch_get([(job_id, rid) for rid in ids], consistent_read=True)}
    return [found[rid] for rid in ids]


def test_a_batch_claim_leaves_out_the_recipient_another_worker_holds(queued, live_fake):
    job, chunks = queued(12)
    sending._mark_running(job)
    batch = chunk_recipients(*chunks[0])[:10]
    assert sending._claim(batch[3])  # another worker got there first: the batch's transaction is cancelled
    claimed = sending._claim_batch(job.jobId, batch)
    assert [r.recipientId for r in claimed] == [r.recipientId for i, r in enumerate(batch) if i != 3]
    assert {BulkRecipient.get(job.jobId, r.recipientId, consistent_read=True).status for r in batch} == {"sending"}
    assert sending._claim_batch(job.jobId, batch) == []  # all held now: none claimed twice


def test_a_batch_claim_claims_nobody_once_the_job_is_paused(queued, live_fake, operator):
    job, chunks = queued(5)
    sending._mark_running(job)
    actions.control(job.jobId, "pause", user=operator)
    batch = chunk_recipients(*chunks[0])
    with pytest.raises(sending.JobNotRunning) as stopped:
        sending._claim_batch(job.jobId, batch)
    assert stopped.value.status == "paused"
    assert statuses(job.jobId) == ["pending"] * 5


def test_a_chunk_sends_to_everyone_else_when_one_recipient_is_held_elsewhere(queued, live_fake):
    job, chunks = queued(12)
    held = chunk_recipients(*chunks[0])[3]
    assert sending._claim(held)
    assert sending.run_chunk(*chunks[0]) == {"state": "done", "sent": 11}
    assert sorted(called_numbers(live_fake)) == sorted(
        r.address for r in all_recipients(job.jobId) if r.recipientId != held.recipientId
    )


def test_someone_who_opts_out_while_the_chunk_runs_is_skipped_and_the_report_says_why(
    queued, live_fake, monkeypatch, settings, client_for, viewer
):
    from contacts import consent
    from contacts.models import Contact

    # Contacts are read again as each batch is claimed: with one call in flight the second batch
    # is claimed after the first send, so the opt-out made during it is seen.
    settings.BULK_SEND_CONCURRENCY = 1
    job, chunks = queued(15)
    leaving = chunk_recipients(*chunks[0])[12]  # in the second batch, claimed after the opt-out
    real = sending._send_one
    calls = []

    def opt_out_during_the_first_send(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            # They replied STOP: the keywords handler withdraws their consent through the history.
            consent.change(
                Contact.get(leaving.contactId, consistent_read=True),
                "sms",
                False,
                source="keyword",
                actor=consent.CUSTOMER,
                evidence={"messageId": "sms-in-1", "keyword": "STOP"},
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(sending, "_send_one", opt_out_during_the_first_send)
    assert sending.run_chunk(*chunks[0]) == {"state": "done", "sent": 14, "skipped": 1}
    recipient = BulkRecipient.get(job.jobId, leaving.recipientId, consistent_read=True)
    assert (recipient.status, recipient.reason) == ("skipped", "CONSENT_WITHDRAWN")
    assert leaving.address not in called_numbers(live_fake)
    job = queries.get_job(job.jobId)
    assert (job.status, job.sentCount, job.skippedCount) == ("completed", 14, 1)
    # The report and the job's page say why: the consent was withdrawn (not "never given").
    report = {cells["contactId"]: cells for _, cells in safe_csv.read(report_of(job.jobId)).rows}
    assert (report[leaving.contactId]["status"], report[leaving.contactId]["reason"]) == (
        "skipped",
        "CONSENT_WITHDRAWN",
    )
    assert [r["status"] for c, r in report.items() if c != leaving.contactId] == ["sent"] * 14
    page = client_for(viewer).get(f"/bulk/{job.jobId}/").content.decode()
    [row] = re.findall(r'<tr data-status="skipped">.*?</tr>', page, flags=re.S)
    assert leaving.address in row and "CONSENT_WITHDRAWN" in row


def test_a_recipient_the_sweep_took_does_not_cost_its_batch_their_records(queued, live_fake, monkeypatch):
    job, chunks = queued(5)
    taken = chunk_recipients(*chunks[0])[2]
    real = sending._send_one

    def swept_after_its_call(job_, recipient, *args, **kwargs):
        outcome = real(job_, recipient, *args, **kwargs)
        if recipient.recipientId == taken.recipientId:  # the worker stalled past the sweep's cutoff
            recipient.update(actions=[BulkRecipient.status.set("unknown"), BulkRecipient.reason.set("WORKER_LOST")])
        return outcome

    monkeypatch.setattr(sending, "_send_one", swept_after_its_call)
    assert sending.run_chunk(*chunks[0]) == {"state": "done", "sent": 4}
    by_id = {r.recipientId: r for r in all_recipients(job.jobId)}
    assert by_id.pop(taken.recipientId).status == "unknown"  # the sweep's word stands
    assert {r.status for r in by_id.values()} == {"sent"}
    assert all(Message.get(r.messageId).status == "sent" for r in by_id.values())


def test_a_failing_pool_thread_gives_back_what_was_claimed_but_never_sent(queued, live_fake, monkeypatch, settings):
    settings.BULK_SEND_CONCURRENCY = 4
    job, chunks = queued(40)
    real = sending._send_one
    calls = []

    def third_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("DynamoDB went away")  # an error no condition explains: the task fails
        return real(*args, **kwargs)

    monkeypatch.setattr(sending, "_send_one", third_fails)
    with pytest.raises(RuntimeError, match="went away"):
        sending.run_chunk(*chunks[0])
    by_status = Counter(statuses(job.jobId))
    # Only the recipient whose send raised stays claimed (the sweep's to judge); every one claimed
    # but never handed to a thread is pending again, and was not called.
    assert by_status["sending"] == 1
    assert by_status["sent"] == len(called_numbers(live_fake))
    assert by_status["pending"] == 40 - 1 - by_status["sent"]
    monkeypatch.setattr(sending, "_send_one", real)
    sending.run_chunk(*chunks[0])  # the task's retry
    assert Counter(statuses(job.jobId)) == {"sent": 39, "sending": 1}
    assert len(called_numbers(live_fake)) == len(set(called_numbers(live_fake))) == 39
