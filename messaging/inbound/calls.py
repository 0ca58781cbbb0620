"""WhatsApp voice-call events (the webhook's ``calls`` field): each call recorded once.

SKELETON (issue 15, part 6): not built yet; every call change is logged and counted "ignored".
"""

from __future__ import annotations

import logging

from messaging.inbound.events import FieldChange

log = logging.getLogger(__name__)


def apply(change: FieldChange) -> str:
    log.info("call change not handled yet", extra={"field": change.field})
    return "ignored"
