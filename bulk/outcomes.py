"""Recipients' outcomes, written in batches: the bulk worker's record step. An outcome waits here
in memory until ``flush`` writes a batch's Messages items, final states and ``MSG#`` items in
one transaction; docs/design/bulk-sending.md says what batching costs when a worker dies.
Safe to use from the pool threads that make a chunk's provider calls (bulk/in_flight.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError

from bulk.models import BulkRecipient
from messaging import counters
from messaging.models import Message, StatusChange
from messaging.outbound import send
from messaging.outbound.records import wa_message_item
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import now, set_nullable, transaction

log = logging.getLogger("bulk.outcomes")

MAX_ACTIONS = 100  # TransactWriteItems' limit on actions per request
# Outcomes written together once this many wait: a WhatsApp outcome is three actions (Messages
# item, final state, MSG# item), so 30 of them fill most of one transaction.
RECORD_BATCH = 30
# Longest an outcome waits for its batch to fill before it is written anyway.
RECORD_WAIT_SECONDS = 1.0


@dataclass
class _Outcome:
    recipient: BulkRecipient
    status: str
    actions: list = field(default_factory=list)  # the recipient's update actions
    message: Message | None = None
    wa: WaMessage | None = None

    @property
    def size(self) -> int:
        return 1 + (self.message is not None) + (self.wa is not None)


class Outcomes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[_Outcome] = []
        self._since = 0.0  # time.monotonic() when the oldest waiting outcome was added
        self.recorded: Counter[str] = Counter()  # final states written, by status
        self.sent_from: Counter[str] = Counter()  # "sent" states written, by the number sent from
        self.settled = 0  # outcomes taken out of waiting and written, or found taken by the sweep

    def __len__(self) -> int:
        return len(self._waiting)

    def due(self) -> bool:
        """A batch is full, or its oldest outcome has waited long enough."""
        with self._lock:
            return len(self._waiting) >= RECORD_BATCH or (
                bool(self._waiting) and time.monotonic() - self._since > RECORD_WAIT_SECONDS
            )

    def skipped(self, recipient: BulkRecipient, reason: str) -> str:
        """The gate refused at send time (opt-out, deletion, tier full): no message, no call."""
        actions = [
            BulkRecipient.status.set("skipped"),
            BulkRecipient.reason.set(reason),
            BulkRecipient.finishedAt.set(now()),
        ]
        return self._add(_Outcome(recipient, "skipped", actions))

    def delivered(self, recipient: BulkRecipient, message: Message, outcome: send.Outcome) -> str:
        """The provider call's result (sent, or failed with the provider's details)."""
        at = now()
        wa = None
        if outcome.error is not None:
            status = "failed"
            details = {**outcome.error.details, "message": str(outcome.error), "permanent": outcome.error.permanent}
            message.status, message.errorDetails = status, details
            reason = str(details.get("code") or "SEND_FAILED")
        else:
            result = outcome.result
            assert result is not None  # dispatch gives an allowed send either a result or an error
            status, reason = "sent", None
            message.status = "sent"
            message.providerRequest = result.calls
            if message.channel != "whatsapp":
                message.providerMessageId = result.provider_message_id  # SMS and SES events name it
            else:
                message.whatsappMessageId = result.provider_message_id
                wa = wa_message_item(message, result, to=outcome.to, at=at.isoformat(), customer=outcome.customer)
            # A sent change keeps when the provider call began: the rate limit's clock, as single sends record it.
            details = {"providerCallStartedAt": result.started_at}
        message.statusHistory = [*message.statusHistory, StatusChange(status=status, at=at, details=details)]
        actions = [
            BulkRecipient.status.set(status),
            set_nullable(BulkRecipient.reason, reason),
            BulkRecipient.messageId.set(message.messageId),
            BulkRecipient.finishedAt.set(at),
        ]
        if status == "sent":
            actions.append(BulkRecipient.sentAt.set(at))
        return self._add(_Outcome(recipient, status, actions, message, wa))

    def _add(self, outcome: _Outcome) -> str:
        with self._lock:
            if not self._waiting:
                self._since = time.monotonic()
            self._waiting.append(outcome)
        return outcome.status

    def flush(self) -> Counter[str]:
        """Write every waiting outcome; returns the final states recorded, by status. Outcomes
        added meanwhile (by other threads) wait for the next flush."""
        recorded: Counter[str] = Counter()
        with self._lock:
            waiting, self._waiting = self._waiting, []
        batch: list[_Outcome] = []
        for outcome in waiting:
            if sum(o.size for o in batch) + outcome.size > MAX_ACTIONS:
                recorded.update(self._write(batch))
                batch = []
            batch.append(outcome)
        if batch:
            recorded.update(self._write(batch))
        return recorded

    def _write(self, batch: list[_Outcome]) -> Counter[str]:
        """One transaction's worth, counted as soon as it is written (a later one may fail)."""
        written = _write(batch)
        statuses = Counter(o.status for o in written)
        with self._lock:
            self.recorded.update(statuses)
            self.sent_from.update(o.message.sender or "" for o in written if o.status == "sent" and o.message)
            self.settled += len(batch)
        return statuses


def _write(batch: list[_Outcome]) -> list[_Outcome]:
    """Record the batch in one transaction; returns the outcomes written (all, or all but the ones
    whose recipient the sweep took meanwhile)."""
    tx = transaction()
    try:
        with tx:
            for o in batch:
                if o.message is not None:
                    tx.save(o.message, condition=Message.messageId.does_not_exist(), label=o)
                tx.update(o.recipient, actions=o.actions, condition=BulkRecipient.status == "sending", label=o)
                if o.wa is not None:
                    tx.save(o.wa, condition=WaMessage.pk.does_not_exist(), label=o)
            counters.add_after(tx, _counts(batch))
    except TransactWriteError as exc:
        failed = tx.failed_labels(exc) if exc.cause_response_code == "TransactionCanceledException" else []
        if not failed:
            raise  # not a condition (the network, a conflict): they stay sending, and the sweep says unknown
        if len(batch) == 1:
            _lost(batch[0])
            return []
        # One recipient's condition failed: write the others one by one, so it cannot cost them
        # their records.
        return [written for o in batch for written in _write([o])]
    return batch


def _counts(batch: list[_Outcome]) -> Counter[str]:
    """The dashboard's counts of a batch written whole (a batch cancelled counts nothing; its
    outcomes are then written and counted one by one)."""
    counts: Counter[str] = Counter()
    for o in batch:
        if o.message is not None:
            counts += counters.outbound(o.message.channel, "attempted", o.status, bulk=True)
    return counts


def _lost(outcome: _Outcome) -> None:
    """Its recipient is no longer ``sending`` (the stuck sweep marked it unknown while this worker
    was stalled): its state stays what the sweep said, and the log keeps what happened."""
    log.error(
        "bulk outcome not recorded: the recipient is no longer sending",
        extra={
            "job_id": outcome.recipient.jobId,
            "recipient": outcome.recipient.recipientId,
            "status": outcome.status,
            "message_id": outcome.message.messageId if outcome.message else None,
        },
    )
