"""One chunk of a bulk job, sent by a worker; the job's counters, completion and stuck sweep.

Per chunk (``run_chunk``, called by the ``bulk.send_chunk`` task):

1. Read the job. ``paused``: send nothing and return, rather than hold a worker slot; resume
   (``bulk.actions.control``) queues the job's unfinished chunks again. ``cancelled``: the chunk's pending recipients become
   ``cancelled``. ``pending``: the first chunk moves the job to ``running``.
2. Read the chunk's recipients (one BatchGetItem). Only ``pending`` recipients are worked on: a
   redelivered or replayed chunk finds the ones already done final, and the ones a dead worker
   left ``sending`` are the sweep's, never re-sent.
3. Per batch of ``CLAIM_BATCH`` recipients: **claim** them ``pending`` -> ``sending`` in one
   TransactWriteItems whose condition is also that the job is ``running`` (so pause and cancel
   are honoured between batches without reading the job), before any provider call; read their
   contacts afresh (one BatchGetItem, so an opt-out made while the chunk runs is honoured); per
   recipient the one outbound ``dispatch`` (the same gate as a single send, with the WhatsApp
   tier claim, rate tokens, the sender; DRY_RUN decided in ``deliver``). The outcomes are
   recorded in batches (``bulk/outcomes.py``): per recipient the Messages item (``bulkJobId``
   set), the WhatsApp ``MSG#`` item and its final state, all in one TransactWriteItems per batch,
   before the next batch is claimed, and before a rate token (which may wait for its window) is
   taken once they have waited ``RECORD_WAIT_SECONDS``.
4. Rate tokens are reserved in batches (``reserve_for_send(up_to=True)``) as large as this
   worker can use at its own pace (``Tokens``), and handed out one per message at its slot.
5. Count the chunk into the job (``reconcile_chunk``): the tally of its recipients' final states
   is compared with what the chunk item says was already added, and only the difference is ADDed
   to the job's counters, in one transaction with the chunk item's new tally (conditional on its
   version). However often a chunk runs, each recipient is counted once. A worker killed between
   recording and counting leaves the chunk to its redelivery or to ``sweep_stuck``.
6. ``finish_if_done``: when the counters reach the total, one conditional update (``completedAt``
   absent) ends the job exactly once; that caller emits the job's metrics; the report is written.

DynamoDB requests per sent recipient: per batch of 10, 1 TransactWriteItems (claims), 1
BatchGetItem (contacts), 1 TransactWriteItems (records); plus per chunk about 6 more (job reads,
the recipients' BatchGet, usage, reconcile): ~0.35 in all. Rate reservations come on top: one
per batch of tokens (``Tokens``), so from ~0.05 per recipient when the worker keeps up with its
slots (a whole window in one) to ~1-2 when every send takes longer than a slot (one token at a
time, plus a retry when another worker wrote the window first).
Claiming in batches has one cost: a worker killed mid-batch leaves up to a batch ``sending`` (the
claimed but not yet called, and the called but not yet recorded), which the sweep reports
``unknown``. A WhatsApp recipient outside their window also costs the tier claim (1 GetItem when
they already hold a slot, ~4 requests when new).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from bulk.models import CHUNK_PREFIX, FINAL_RECIPIENT_STATUSES, BulkChunk, BulkJob, BulkRecipient
from bulk.outcomes import Outcomes
from contacts.models import Contact
from messaging.models import Message, StatusChange, UsageCounter
from messaging.outbound import ratelimit, send
from messaging.outbound.records import RETENTION
from wecare.dynamo import now, transaction, update_if
from wecare.metrics import emit

log = logging.getLogger("bulk.worker")

# Recipients claimed in one transaction (with the job's status as its condition): the batch a
# pause or cancel waits for, and at most what a worker killed mid-batch leaves "unknown".
CLAIM_BATCH = 10
# Longest an outcome waits for its batched record before the worker takes another rate token.
RECORD_WAIT_SECONDS = 1.0
COUNTERS = {"sent": "sentCount", "failed": "failedCount", "skipped": "skippedCount", "cancelled": "cancelledCount", "unknown": "unknownCount"}


class Tokens:
    """Rate tokens for one chunk, reserved in batches (one write, or one transaction for
    WhatsApp, per batch) rather than one by one where the worker can. Each token is used inside
    its own slot of the window (``Reservation.not_before``/``not_after``), so sends are paced
    across the second rather than bunched at its start (messaging/outbound/ratelimit.py says why).

    A batch is only as large as this worker can use on time. Its slots are 1/limit apart; a
    worker that needs longer than that per send (a real provider call takes tens of
    milliseconds, a slot at 80/s is 12.5) would reach each next token later than the last, and
    send the batch's tail late, bunched with other workers' on-time sends. So the worker measures
    its own time per send (``per_send``, between handing out a token and being asked for the
    next) and, when that is longer than a slot, asks for no more tokens than it can use at most
    one slot late (``_ask``): one at a time at 80/s with real calls, the whole window with the
    fast DRY_RUN sender. It also leaves the rest of the window to the chunks of other workers."""

    SMOOTHING = 0.3  # weight of the newest measurement in ``per_send``
    GRACE = 0.02  # seconds after its slot began that a token is still used, however short the slot

    def __init__(self, channel: str, sender: str):
        self.channel, self.sender = channel, sender
        self.reservation: ratelimit.Reservation | None = None
        self.used = 0  # tokens of the reservation handed out or let go
        self.wanted = 1  # the chunk sets how many messages are still to go
        self.reservations = 0
        self.per_send: float | None = None  # seconds this worker spends per send, smoothed
        self._handed_out_at: float | None = None

    def _ask(self, limit: int) -> int:
        """Tokens to reserve: what the chunk still wants, but when a send takes this worker
        longer than a slot (1/limit), only as many as it reaches at most one slot late: after n
        tokens it is (n - 1) * (per_send - 1/limit) behind its slots."""
        wanted = max(1, self.wanted)
        if self.per_send is None:
            return 1  # the chunk's first token: its pace is not known yet
        if self.per_send * limit <= 1:
            return wanted
        return min(wanted, 1 + math.floor(1 / (self.per_send * limit - 1)))

    def _next_fresh(self) -> int | None:
        """The next token still good: its slot has not ended (or began less than ``GRACE`` ago,
        for slots too short to hit, at very high limits), and neither has its window. A token
        reached later than that (a stall: a slow record, a slow claim) is let go rather than
        sent late, bunched with other workers' on-time sends."""
        if self.reservation is None:
            return None
        at = time.time()
        grant = self.reservation
        while self.used < grant.granted and (grant.not_after(self.used) <= at or max(grant.slot_end(self.used), grant.not_before(self.used) + self.GRACE) <= at):
            self.used += 1
        return self.used if self.used < grant.granted else None

    def take(self, channel: str, sender: str) -> float:
        """``dispatch``'s ``reserve``: a token, after waiting for its slot to start; returns when
        its window ends (``deliver`` refuses a token past it and ``dispatch`` asks again)."""
        if self._handed_out_at is not None:
            spent = time.time() - self._handed_out_at
            self.per_send = spent if self.per_send is None else self.SMOOTHING * spent + (1 - self.SMOOTHING) * self.per_send
        index = self._next_fresh()
        while index is None:
            limit = ratelimit.buckets_for(channel, sender)[0][1]
            self.reservation = ratelimit.reserve_for_send(channel, sender, self._ask(limit), up_to=True)
            self.reservations += 1
            self.used = 0
            index = self._next_fresh()
        self.used += 1
        wait = self.reservation.not_before(index) - time.time()
        if wait > 0:
            time.sleep(wait)
        self._handed_out_at = time.time()
        return self.reservation.not_after(index)


def _job(job_id: str) -> BulkJob | None:
    try:
        return BulkJob.get(job_id, consistent_read=True)
    except BulkJob.DoesNotExist:
        return None


def _status(job_id: str) -> str:
    job = _job(job_id)
    return job.status if job else "missing"


def _mark_running(job: BulkJob) -> str:
    at = now()
    if update_if(job, actions=[BulkJob.status.set("running"), BulkJob.startedAt.set(at), BulkJob.updatedAt.set(at)], condition=BulkJob.status == "pending"):
        return "running"
    return _status(job.jobId)  # another chunk started it, or someone paused/cancelled it


def _load(job_id: str, chunk: BulkChunk) -> list[BulkRecipient]:
    found = {r.recipientId: r for r in BulkRecipient.batch_get([(job_id, rid) for rid in chunk.recipientIds], consistent_read=True)}
    return [found[rid] for rid in chunk.recipientIds if rid in found]


def _final(recipient: BulkRecipient, status: str, *, reason: str | None = None, only_from: str) -> bool:
    return update_if(
        recipient,
        actions=[BulkRecipient.status.set(status), BulkRecipient.reason.set(reason), BulkRecipient.finishedAt.set(now())],
        condition=BulkRecipient.status == only_from,
    )


def _cancel_pending(recipients: list[BulkRecipient]) -> int:
    return sum(_final(r, "cancelled", reason="JOB_CANCELLED", only_from="pending") for r in recipients if r.status == "pending")


def _claim(recipient: BulkRecipient) -> bool:
    """pending -> sending for exactly one worker, before any provider call."""
    return update_if(recipient, actions=[BulkRecipient.status.set("sending"), BulkRecipient.claimedAt.set(now())], condition=BulkRecipient.status == "pending")


def _message(job: BulkJob, recipient: BulkRecipient) -> Message:
    content = dict(job.messageSpec or {})
    if recipient.parameters and content.get("template"):
        content["template"] = {**content["template"], "parameters": {**(content["template"].get("parameters") or {}), **recipient.parameters}}
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
        sender=job.sender,
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
                tx.update(recipient, actions=[BulkRecipient.status.set("sending"), BulkRecipient.claimedAt.set(at)], condition=BulkRecipient.status == "pending", label=recipient.recipientId)
    except TransactWriteError as exc:
        if exc.cause_response_code != "TransactionCanceledException":
            raise
        failed = tx.failed_labels(exc)
        status = "running" if failed and "job" not in failed else _status(job_id)
        if status != "running":
            raise JobNotRunning(status) from None
        return [recipient for recipient in batch if _claim(recipient)]
    return batch


def _contacts(recipients: list[BulkRecipient]) -> dict[str, Contact]:
    """The claimed recipients' contacts as they are now, so the gate sees an opt-out or a deletion
    made while a slow (rate-limited) chunk runs."""
    ids = list({r.contactId for r in recipients if r.contactId})
    return {c.contactId: c for c in Contact.batch_get(ids, consistent_read=True)} if ids else {}


def _send_one(job: BulkJob, recipient: BulkRecipient, contact: Contact | None, reserve: Callable[[str, str], float], outcomes: Outcomes) -> str:
    """Gate, rate token and provider call for a claimed recipient; the outcome waits in ``outcomes``
    for its batched record. Returns the recipient's final status."""
    from messaging.outbound import tier

    message = _message(job, recipient)
    outcome = send.dispatch(contact, message, tier_allows=tier.claim, reserve=reserve)
    if not outcome.verdict.allowed:
        # The contact changed since the preview (opt-out, deletion, the tier filled up).
        return outcomes.skipped(recipient, outcome.verdict.reason.value)
    return outcomes.delivered(recipient, message, outcome)


def _count_usage(job: BulkJob, sent: int) -> None:
    """Template / free-form sends per day and sender, for cost: one ADD per chunk."""
    if not sent:
        return
    day = now().strftime("%Y-%m-%d")
    counter = UsageCounter.templateCount if (job.messageSpec or {}).get("template") else UsageCounter.freeformCount
    UsageCounter(usageKey=f"{job.channel}#{job.sender}#{day}").update(
        actions=[counter.add(sent), UsageCounter.channel.set(job.channel), UsageCounter.sender.set(job.sender or ""), UsageCounter.day.set(day)]
    )


def run_chunk(job_id: str, chunk_id: str) -> dict[str, Any]:
    """Work one chunk; returns what happened ({"state": ..., counts}). ``state`` "paused" means
    the caller should run it again later. Safe to run any number of times."""
    job = _job(job_id)
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
    recipients = _load(job_id, chunk)
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


def _send_pending(job: BulkJob, recipients: list[BulkRecipient]) -> Counter[str]:
    pending = [r for r in recipients if r.status == "pending"]
    counts: Counter[str] = Counter()
    if not pending:
        return counts
    tokens = Tokens(job.channel, job.sender or "")
    outcomes = Outcomes()

    def reserve(channel: str, sender: str) -> float:
        # Taking a token may mean waiting for the next rate window: outcomes do not wait through it
        # unrecorded (a worker killed meanwhile would leave them "unknown").
        if outcomes.waiting_longer_than(RECORD_WAIT_SECONDS):
            counts.update(outcomes.flush())
        return tokens.take(channel, sender)

    try:
        for start in range(0, len(pending), CLAIM_BATCH):
            counts.update(outcomes.flush())  # every claimed batch recorded before the next is claimed
            try:
                claimed = _claim_batch(job.jobId, pending[start : start + CLAIM_BATCH])
            except JobNotRunning as stopped:  # honour pause and cancel between messages
                if stopped.status == "paused":
                    counts["_paused"] = 1
                elif stopped.status == "cancelled":
                    counts["cancelled"] += _cancel_pending(pending[start:])
                else:
                    log.warning("bulk job is neither running, paused nor cancelled; chunk stops", extra={"job_id": job.jobId, "status": stopped.status})
                break
            contacts = _contacts(claimed)
            for index, recipient in enumerate(claimed):
                tokens.wanted = len(pending) - start - index
                _send_one(job, recipient, contacts.get(recipient.contactId or ""), reserve, outcomes)
    finally:
        counts.update(outcomes.flush())
    _count_usage(job, counts["sent"])
    for name in ("sent", "failed", "skipped"):
        if counts[name]:
            emit(f"Bulk{name.capitalize()}", counts[name], channel=job.channel)
    return counts


def unfinished_chunks(job_id: str) -> list[str]:
    """The job's chunks with recipients not yet counted final (by their last tally)."""
    chunks = BulkChunk.query(job_id, BulkChunk.recipientId.startswith(CHUNK_PREFIX), consistent_read=True)
    return [c.recipientId for c in chunks if sum(int(n) for n in (c.tally or {}).values()) < len(c.recipientIds)]


def reconcile_chunk(job_id: str, chunk_id: str, *, attempts: int = 10) -> dict[str, int]:
    """Add the chunk's not-yet-counted final states to the job's counters (once, exactly)."""
    for _ in range(attempts):
        chunk = BulkChunk.get(job_id, chunk_id, consistent_read=True)
        tally = Counter(r.status for r in _load(job_id, chunk) if r.status in FINAL_RECIPIENT_STATUSES)
        previous = chunk.tally or {}
        delta = {name: tally[name] - int(previous.get(name, 0)) for name in COUNTERS if tally[name] != int(previous.get(name, 0))}
        if not delta:
            return {}
        version = int(chunk.tallyVersion or 0)
        job = BulkJob(jobId=job_id)
        try:
            with transaction() as tx:
                tx.update(chunk, actions=[BulkChunk.tally.set(dict(tally)), BulkChunk.tallyVersion.set(version + 1)], condition=(BulkChunk.tallyVersion == version) | BulkChunk.tallyVersion.does_not_exist(), label="chunk")
                tx.update(job, actions=[*(getattr(BulkJob, COUNTERS[name]).add(n) for name, n in delta.items()), BulkJob.updatedAt.set(now())], condition=BulkJob.jobId.exists(), label="job")
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                continue  # another run counted this chunk meanwhile: look again
            raise
        return delta
    raise RuntimeError(f"could not count chunk {chunk_id} of job {job_id} after {attempts} attempts")


def finish_if_done(job_id: str) -> bool:
    """End the job when every recipient is final: exactly one caller wins the conditional update
    and emits the job's metrics; the report is written by whoever finds it missing."""
    for _ in range(3):
        job = _job(job_id)
        if job is None or job.finished_count < int(job.totalRecipients):
            return False
        if job.completedAt is not None:
            break
        at = now()
        target = "cancelled" if job.status == "cancelled" else "completed"
        if not update_if(
            job,
            actions=[BulkJob.status.set(target), BulkJob.completedAt.set(at), BulkJob.updatedAt.set(at)],
            condition=BulkJob.completedAt.does_not_exist() & (BulkJob.status == job.status),
        ):
            continue  # someone changed the status (a cancel) or finished it: look again
        _emit_job_metrics(job, at)
        log.info("bulk job finished", extra={"job_id": job_id, "status": target, "sent": int(job.sentCount)})
        break
    else:
        return False
    if not job.reportKey:
        from bulk.reports import write_report

        write_report(job_id)
    return True


def _emit_job_metrics(job: BulkJob, at: datetime) -> None:
    started = job.startedAt or job.createdAt
    seconds = max(0.0, (at - started).total_seconds())
    emit("BulkJobDuration", round(seconds, 3), "Seconds", channel=job.channel)
    if seconds > 0:
        emit("BulkJobThroughput", round(int(job.sentCount) / seconds, 2), "Count/Second", channel=job.channel)


def sweep_stuck(older_than: timedelta | None = None) -> dict[str, int]:
    """The periodic repair of what a dead worker left behind, per job not yet completed:

    - recipients left ``sending`` longer than ``older_than`` (a worker died between the claim and
      the record) become ``unknown``: the provider call may or may not have happened, so they are
      never sent again; the report says so;
    - chunks whose recipients are final but not yet counted into the job (a worker died between
      recording a chunk's outcomes and ``reconcile_chunk``, and SQS has not redelivered the chunk
      yet, or the chunk was parked) are counted, so the job can complete.

    Returns {job id: recipients marked unknown}."""
    from bulk.queries import all_recipients

    cutoff = now() - (older_than if older_than is not None else timedelta(minutes=settings.BULK_STUCK_SENDING_MINUTES))
    resolved: dict[str, int] = {}
    for job in BulkJob.scan(filter_condition=BulkJob.completedAt.does_not_exist()):
        final_per_chunk: Counter[str] = Counter()
        count = 0
        for recipient in all_recipients(job.jobId):
            if recipient.status == "sending" and recipient.claimedAt is not None and recipient.claimedAt <= cutoff and _mark_unknown(recipient):
                count += 1
                recipient.status = "unknown"
            if recipient.chunk and recipient.status in FINAL_RECIPIENT_STATUSES:
                final_per_chunk[recipient.chunk] += 1
        for chunk in BulkChunk.query(job.jobId, BulkChunk.recipientId.startswith(CHUNK_PREFIX), consistent_read=True):
            if sum(int(n) for n in (chunk.tally or {}).values()) != final_per_chunk[chunk.recipientId]:
                reconcile_chunk(job.jobId, chunk.recipientId)
        if count:
            log.warning("bulk recipients stuck in sending marked unknown", extra={"job_id": job.jobId, "count": count})
            resolved[job.jobId] = count
        finish_if_done(job.jobId)
    return resolved


def _mark_unknown(recipient: BulkRecipient) -> bool:
    """sending -> unknown, unless its worker recorded it meanwhile (or it was claimed again)."""
    return update_if(
        recipient,
        actions=[BulkRecipient.status.set("unknown"), BulkRecipient.reason.set("WORKER_LOST"), BulkRecipient.finishedAt.set(now())],
        condition=(BulkRecipient.status == "sending") & (BulkRecipient.claimedAt == recipient.claimedAt),
    )
