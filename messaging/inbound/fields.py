"""Which module handles a webhook change that is not about messages: each field Meta sends
(and EUM forwards) maps to one function that records the change and says what it did, in a word
("recorded", "duplicate", "ignored"…) for the event's summary. A field nobody handles is logged and
counted as "unhandled", never an error: a new Meta field must not block the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from messaging.inbound import account_health, calls
from messaging.inbound.events import FieldChange

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[FieldChange], str]] = {
    **dict.fromkeys(account_health.FIELDS, account_health.apply),
    "calls": calls.apply,
}


def apply(change: FieldChange) -> str:
    handler = HANDLERS.get(change.field)
    if handler is None:
        log.info("webhook field not handled", extra={"field": change.field, "waba_id": change.waba_id})
        return "unhandled"
    return handler(change)
