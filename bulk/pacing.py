"""Rate tokens for one chunk of a bulk job: reserved from messaging's rate limiter in batches
the worker can use on time, and handed out one per message at its slot of the window.
Why batches, and how their size follows the worker's pace: docs/design/bulk-sending.md."""

from __future__ import annotations

import math
import threading
import time

from messaging.outbound import ratelimit


class Tokens:
    """Rate tokens for one chunk: ``take`` is ``dispatch``'s ``reserve``. Each token is used
    inside its own slot of the window (``Reservation.not_before``/``not_after``). A batch is only
    as large as this worker reaches on time, by its own measured time per send (``per_send``,
    ``_ask``); the rest of the window is left to other workers' chunks.

    Thread-safe: a chunk's pool threads (bulk/in_flight.py) take tokens one at a time, in slot
    order, each thread waiting for its slot while holding the lock, so tokens go out paced across
    the window however many calls are in flight."""

    SMOOTHING = 0.3  # weight of the newest measurement in ``per_send``
    GRACE = ratelimit.CALL_GRACE  # seconds after its slot began that a token is still used, however short the slot

    def __init__(self, channel: str, sender: str):
        self.channel, self.sender = channel, sender
        self.reservation: ratelimit.Reservation | None = None
        self.used = 0  # tokens of the reservation handed out or let go
        self.wanted = 1  # messages still to take a token: the chunk sets it, each token handed out lowers it
        self.reservations = 0
        self.per_send: float | None = None  # seconds this worker spends per send, smoothed
        self._handed_out_at: float | None = None
        self._lock = threading.Lock()

    def _ask(self, limit: int) -> int:
        """Tokens to reserve: what the chunk still wants, but when this worker takes tokens more
        slowly than one per slot (1/limit), only as many as it reaches while they are still good:
        token n is reached about n * per_send after the first and stays good until
        n / limit + ``reach`` (its slot, or ``GRACE`` for slots shorter than that)."""
        wanted = max(1, self.wanted)
        if self.per_send is None:
            return 1  # the chunk's first token: its pace is not known yet
        slot = 1 / limit
        if self.per_send <= slot:
            return wanted
        reach = max(slot, self.GRACE)
        return min(wanted, 1 + math.floor(reach / (self.per_send - slot)))

    def _next_fresh(self) -> int | None:
        """The next token still good: its slot has not ended (or began less than ``GRACE`` ago,
        for slots too short to hit, at very high limits), and neither has its window. A token
        reached later than that (a stall: a slow record, a slow claim) is let go rather than
        sent late, bunched with other workers' on-time sends."""
        if self.reservation is None:
            return None
        at = time.time()
        grant = self.reservation
        while self.used < grant.granted and (grant.call_by(self.used) <= at):
            self.used += 1
        return self.used if self.used < grant.granted else None

    def forgo(self) -> None:
        """One message the chunk counted in ``wanted`` will not take a token (the gate refused it)."""
        with self._lock:
            self.wanted = max(0, self.wanted - 1)

    def take(self, channel: str, sender: str) -> float:
        """``dispatch``'s ``reserve``: a token, after waiting for its slot to start; returns the
        latest its call may start (``Reservation.call_by``: ``deliver`` refuses the token after it,
        and ``dispatch`` asks again), so a thread held up after this never sends out of its slot."""
        with self._lock:
            return self._take(channel, sender)

    def _take(self, channel: str, sender: str) -> float:
        if self._handed_out_at is not None:
            spent = time.time() - self._handed_out_at
            self.per_send = (
                spent if self.per_send is None else self.SMOOTHING * spent + (1 - self.SMOOTHING) * self.per_send
            )
        index = self._next_fresh()
        while index is None:
            limit = ratelimit.buckets_for(channel, sender)[0][1]
            self.reservation = ratelimit.reserve_for_send(channel, sender, self._ask(limit), up_to=True)
            self.reservations += 1
            self.used = 0
            index = self._next_fresh()
        grant = self.reservation
        assert grant is not None  # _next_fresh found the token in it
        self.used += 1
        self.wanted = max(0, self.wanted - 1)
        wait = grant.not_before(index) - time.time()
        if wait > 0:
            time.sleep(wait)
        self._handed_out_at = time.time()
        return grant.call_by(index)
