"""Sending one chunk of a bulk job (the ``bulk.send_chunk`` task, defined here): claim each
pending recipient before its provider call, send it through the same gate and send path as a
single message, record the outcomes in batches, then count the chunk into its job.
The steps and why each is safe to repeat: docs/design/bulk-sending.md."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from bulk.counting import finish_if_done, reconcile_chunk
from bulk.in_flight import InFlight
from bulk.models import BulkChunk, BulkJob, BulkRecipient
from bulk.outcomes import RECORD_BATCH, RECORD_WAIT_SECONDS, Outcomes
from bulk.pacing import Tokens
from bulk.queries import chunk_recipients, find_job
from contacts.models import Contact
from messaging.models import Message, StatusChange, UsageCounter
from messaging.outbound import send, tier
from messaging.outbound.records import RETENTION
from wecare.dlq import DeadLetterTask
from wecare.dynamo import now, set_nullable, transaction, update_if
from wecare.metrics import emit

log = logging.getLogger("bulk.sending")


# Recipients claimed in one transaction (with the job's status as its condition): pause and
# cancel are seen at the next claim. What a killed worker may leave "unknown": max_unrecorded().
CLAIM_BATCH = 10


def _status(job_id: str) -> str:
    job = find_job(job_id)
    return job.status if job else "missing"


def _mark_running(job: BulkJob) -> str:
    at = now()
    if update_if(
        job,
        actions=[BulkJob.status.set("running"), BulkJob.startedAt.set(at), BulkJob.updatedAt.set(at)],
        condition=BulkJob.status == "pending",
    ):
        return "running"
    return _status(job.jobId)  # another chunk started it, or someone paused/cancelled it


def _final(recipient: BulkRecipient, status: str, *, reason: str | None = None, only_from: str) -> bool:
    return update_if(
        recipient,
        actions=[
            BulkRecipient.status.set(status),
            set_nullable(BulkRecipient.reason, reason),
            BulkRecipient.finishedAt.set(now()),
        ],
        condition=BulkRecipient.status == only_from,
    )


def _cancel_pending(recipients: list[BulkRecipient]) -> int:
    return sum(
        _final(r, "cancelled", reason="JOB_CANCELLED", only_from="pending") for r in recipients if r.status == "pending"
    )


def _claim(recipient: BulkRecipient) -> bool:
    """pending -> sending for exactly one worker, before any provider call."""
    return update_if(
        recipient,
        actions=[BulkRecipient.status.set("sending"), BulkRecipient.claimedAt.set(now())],
        condition=BulkRecipient.status == "pending",
    )


def _message(job: BulkJob, recipient: BulkRecipient, sender: str | None) -> Message:
    content = dict(job.messageSpec or {})
    if recipient.parameters and content.get("template"):
        content["template"] = {
            **content["template"],
            "parameters": {**(content["template"].get("parameters") or {}), **recipient.parameters},
        }
    return Message(
        messageId=str(ULID()),
        contactId=recipient.contactId or "",
        channel=job.channel,
        direction="outbound",
        content=content,
        timestamp=now(),
        status="sending",
        statusHistory=[StatusChange(status="sending", at=now())],
        templateName=(content.get("template") or {}).get("name"),
        sender=sender,
        bulkJobId=job.jobId,
        createdBy=job.createdBy,
        dryRun=settings.SEND_MODE != "LIVE",
        expiresAt=RETENTION,
    )


class JobNotRunning(Exception):
    """The job left ``running`` (paused, cancelled…): the chunk stops claiming."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _claim_batch(job_id: str, batch: list[BulkRecipient]) -> list[BulkRecipient]:
    """pending -> sending for a batch in one TransactWriteItems, committed only while the job is
    ``running``: that condition is how pause and cancel are seen between batches, at no extra
    request. Raises JobNotRunning when the job is not running. When another worker already holds
    one of them the whole transaction is cancelled; then each is claimed alone and the ones held
    elsewhere are left out."""
    at = now()
    tx = transaction()
    try:
        with tx:
            tx.condition_check(BulkJob, job_id, condition=BulkJob.status == "running", label="job")
            for recipient in batch:
                tx.update(
                    recipient,
                    actions=[BulkRecipient.status.set("sending"), BulkRecipient.claimedAt.set(at)],
                    condition=BulkRecipient.status == "pending",
                    label=recipient.recipientId,
                )
    except TransactWriteError as exc:
        if exc.cause_response_code != "TransactionCanceledException":
            raise
        failed = tx.failed_labels(exc)
        status = "running" if failed and "job" not in failed else _status(job_id)
        if status != "running":
            raise JobNotRunning(status) from None
        return [recipient for recipient in batch if _claim(recipient)]
    for recipient in batch:  # as written: what _release checks
        recipient.status, recipient.claimedAt = "sending", at
    return batch


def _release(recipient: BulkRecipient) -> bool:
    """sending -> pending for a recipient this run claimed but never began to send (a pool thread
    failed first): it was not called, so the next run may send it. Only while the claim is still
    this run's (its claimedAt), so a recipient anyone else holds, or the sweep took, is left alone."""
    return update_if(
        recipient,
        actions=[BulkRecipient.status.set("pending"), BulkRecipient.claimedAt.remove()],
        condition=(BulkRecipient.status == "sending") & (BulkRecipient.claimedAt == recipient.claimedAt),
    )


def _contacts(recipients: list[BulkRecipient]) -> dict[str, Contact]:
    """The claimed recipients' contacts as they are now, so the gate sees an opt-out or a deletion
    made while a slow (rate-limited) chunk runs."""
    ids = list({r.contactId for r in recipients if r.contactId})
    return {c.contactId: c for c in Contact.batch_get(ids, consistent_read=True)} if ids else {}


def _send_one(
    job: BulkJob,
    recipient: BulkRecipient,
    contact: Contact | None,
    reserve: Callable[[str, str], float],
    outcomes: Outcomes,
    *,
    sender: str | None,
) -> str:
    """Gate, rate token and provider call for a claimed recipient; the outcome waits in ``outcomes``
    for its batched record. Returns the recipient's final status."""
    message = _message(job, recipient, sender)
    outcome = send.dispatch(contact, message, tier_allows=tier.claim, reserve=reserve)
    if outcome.verdict.reason is not None:  # refused
        # The contact changed since the preview (opt-out, deletion, the tier filled up).
        return outcomes.skipped(recipient, outcome.verdict.reason.value)
    return outcomes.delivered(recipient, message, outcome)


def _count_usage(job: BulkJob, sender: str | None, sent: int) -> None:
    """Template / free-form sends per day and sender, for cost: one ADD per chunk."""
    if not sent:
        return
    day = now().strftime("%Y-%m-%d")
    counter = UsageCounter.templateCount if (job.messageSpec or {}).get("template") else UsageCounter.freeformCount
    UsageCounter(usageKey=f"{job.channel}#{sender}#{day}").update(
        actions=[
            counter.add(sent),
            UsageCounter.channel.set(job.channel),
            UsageCounter.sender.set(sender or ""),
            UsageCounter.day.set(day),
        ]
    )


def run_chunk(job_id: str, chunk_id: str) -> dict[str, Any]:
    """Work one chunk; returns what happened ({"state": ..., counts}). ``state`` "paused" means
    the caller should run it again later. Safe to run any number of times."""
    job = find_job(job_id)
    if job is None:
        log.error("bulk chunk for a job that does not exist", extra={"job_id": job_id, "chunk": chunk_id})
        return {"state": "missing"}
    try:
        chunk = BulkChunk.get(job_id, chunk_id, consistent_read=True)
    except BulkChunk.DoesNotExist:
        log.error("bulk chunk does not exist", extra={"job_id": job_id, "chunk": chunk_id})
        return {"state": "missing"}
    status = _mark_running(job) if job.status == "pending" else job.status
    if status == "paused":
        return {"state": "paused"}
    recipients = chunk_recipients(job_id, chunk)
    counts: Counter[str] = Counter()
    if status == "cancelled":
        counts["cancelled"] += _cancel_pending(recipients)
    elif status == "running":
        counts.update(_send_pending(job, recipients))
        if counts.pop("_paused", 0):
            status = "paused"
    reconcile_chunk(job_id, chunk_id)
    finish_if_done(job_id)
    return {"state": "paused" if status == "paused" else "done", **counts}


def max_unrecorded(in_flight: int | None = None) -> int:
    """Recipients one chunk may hold claimed and not yet recorded: the calls in flight
    (``in_flight``, BULK_SEND_CONCURRENCY by default), a claim batch waiting for threads, and a
    record batch filling. A worker process runs one chunk at a time, so one killed at any moment
    leaves at most this many ``sending`` (which the sweep reports ``unknown``)."""
    return (in_flight or settings.BULK_SEND_CONCURRENCY) + CLAIM_BATCH + RECORD_BATCH


def _sender(job: BulkJob, recipient: BulkRecipient) -> str | None:
    """The number a recipient goes from: its own in a campaign on several numbers, else the job's."""
    return recipient.sender or job.sender


def _send_pending(job: BulkJob, recipients: list[BulkRecipient]) -> Counter[str]:
    """Claim, send and record the pending recipients, with up to BULK_SEND_CONCURRENCY provider
    calls in flight: the main thread claims batch after batch, pool threads send."""
    pending = [r for r in recipients if r.status == "pending"]
    counts: Counter[str] = Counter()
    if not pending:
        return counts
    # Rate tokens per number the chunk sends from (one, unless the campaign is on several).
    tokens: dict[str, Tokens] = {}
    for sender, wanted in Counter(_sender(job, r) or "" for r in pending).items():
        tokens[sender] = Tokens(job.channel, sender)
        tokens[sender].wanted = wanted
    outcomes = Outcomes()
    calls = InFlight(settings.BULK_SEND_CONCURRENCY)
    bound = max_unrecorded()
    claimed = 0
    not_started: dict[int, BulkRecipient] = {}  # claimed, not yet taken by a pool thread
    started_lock = threading.Lock()

    def reserve(channel: str, sender: str) -> float:
        # Taking a token may mean waiting for the next rate window: outcomes do not wait through it
        # unrecorded (a worker killed meanwhile would leave them "unknown").
        if outcomes.due():
            outcomes.flush()
        return tokens[sender].take(channel, sender)

    def send(recipient: BulkRecipient, contact: Contact | None) -> None:
        with started_lock:
            not_started.pop(id(recipient), None)
        sender = _sender(job, recipient)
        if _send_one(job, recipient, contact, reserve, outcomes, sender=sender) == "skipped":
            tokens[sender or ""].forgo()
        if outcomes.due():
            outcomes.flush()

    try:
        for start in range(0, len(pending), CLAIM_BATCH):
            batch = pending[start : start + CLAIM_BATCH]
            # Room for this batch under the bound: wait for calls to end and record them.
            while claimed - outcomes.settled + len(batch) > bound:
                calls.wait(RECORD_WAIT_SECONDS / 10)
                if outcomes.due() or not calls.running:
                    outcomes.flush()
            calls.check()  # a pool thread failed: claim nobody more
            try:
                mine = _claim_batch(job.jobId, batch)
            except JobNotRunning as stopped:  # honour pause and cancel between batches
                if stopped.status == "paused":
                    counts["_paused"] = 1
                elif stopped.status == "cancelled":
                    counts["cancelled"] += _cancel_pending(pending[start:])
                else:
                    log.warning(
                        "bulk job is neither running, paused nor cancelled; chunk stops",
                        extra={"job_id": job.jobId, "status": stopped.status},
                    )
                break
            claimed += len(mine)
            with started_lock:
                not_started.update((id(r), r) for r in mine)
            ours = {id(r) for r in mine}
            for recipient in batch:
                if id(recipient) not in ours:  # another worker holds it: not ours to send
                    tokens[_sender(job, recipient) or ""].forgo()
            contacts = _contacts(mine)
            for recipient in mine:
                calls.submit(partial(send, recipient, contacts.get(recipient.contactId or "")))
    finally:
        try:
            calls.close()  # every call in flight ends and adds its outcome
        finally:
            try:
                outcomes.flush()
            finally:
                # After a failure, what was claimed but never sent goes back to pending.
                for recipient in not_started.values():
                    _release(recipient)
    counts.update(outcomes.recorded)
    for sender, sent in outcomes.sent_from.items():  # as recorded, per number
        _count_usage(job, sender, sent)
    for name in ("sent", "failed", "skipped"):
        if counts[name]:
            emit(f"Bulk{name.capitalize()}", counts[name], channel=job.channel)
    return counts


@shared_task(base=DeadLetterTask, name="bulk.send_chunk")
def send_chunk(job_id: str, chunk_id: str) -> dict:
    # Idempotent, as DeadLetterTask's retries and replays need: each recipient is claimed
    # pending -> sending before its provider call, so a chunk run again sends nothing twice, and
    # the chunk is counted into the job by difference (bulk/counting.py). A paused job's chunk
    # returns at once; resume queues the job's unfinished chunks again.
    return run_chunk(job_id, chunk_id)
