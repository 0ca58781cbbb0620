"""A suggestion no longer answers the conversation once the customer wrote again or a person
replied: on messaging's ``conversation_message``, the conversation's pending and generating
suggestions of older messages become superseded (a conditional update each, so a suggestion a
person is sending, already marked used, is never touched). The platform's own sends (``by`` is
"system": the welcome, the menu) supersede nothing. docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import logging
from typing import Any

from ai import index_reads
from ai.models import AIInteraction, Status
from messaging.conversation_index import SYSTEM_ACTOR
from wecare.dynamo import update_if

log = logging.getLogger("ai.pipeline")

OPEN = (Status.GENERATING.value, Status.PENDING.value)


def reason_for(direction: str, by: str | None) -> str | None:
    if direction == "inbound":
        return "newer_message"
    if direction == "outbound" and by and by != SYSTEM_ACTOR:
        return "person_replied"
    return None


def supersede(conversation: str, *, direction: str, by: str | None, at: str) -> int:
    """Supersede the conversation's open suggestions of messages older than ``at``; returns how many."""
    reason = reason_for(direction, by)
    if reason is None:
        return 0
    count = 0
    open_ones = AIInteraction.status.is_in(*OPEN)
    for item in index_reads.query(AIInteraction.by_conversation, conversation, filter_condition=open_ones):
        if item.messageAt and item.messageAt >= at:
            continue  # the message that started this suggestion, or a newer one
        if update_if(
            item,
            actions=[AIInteraction.status.set(Status.SUPERSEDED.value), AIInteraction.statusReason.set(reason)],
            condition=AIInteraction.status.is_in(*OPEN),
        ):
            count += 1
    if count:
        log.info("suggestions superseded", extra={"conversation": conversation, "count": count, "reason": reason})
    return count


# One index query per conversation message, automation on or off: suggestions drafted before the
# switch went off can still be pending, and nothing cheaper says whether a conversation has an open
# one (a marker on the conversation would cost a write per suggestion and could drift), so the
# query is kept; system sends and non-WhatsApp conversations skip it (``reason_for``, below).
def on_conversation_message(
    sender: Any = None, *, conversation: str, direction: str, by: str | None = None, at: str, **_: Any
) -> None:
    if conversation.startswith("whatsapp~"):
        supersede(conversation, direction=direction, by=by, at=at)
