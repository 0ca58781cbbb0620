"""Reads of suggestions: the newest of a conversation (what the inbox's panel shows) and one by
id. Index reads go through ``ai.index_reads`` (the stored attribute
``query`` hides PynamoDB's ``Model.query``). docs/design/agent.md, "Suggestions in the inbox".
"""

from __future__ import annotations

from ai import index_reads
from ai.models import AIInteraction
from wecare.errors import NotFound

# What the composer's hidden ``origin`` field says when Use put a draft in the box
# (messaging/signals.py, reply_*): the prefix and the interaction's id.
ORIGIN_PREFIX = "suggestion:"


def get(interaction_id: str) -> AIInteraction:
    try:
        return AIInteraction.get(interaction_id, consistent_read=True)
    except AIInteraction.DoesNotExist:
        raise NotFound(f"no suggestion {interaction_id[:80]}") from None


def newest(conversation: str) -> AIInteraction | None:
    """The conversation's newest interaction, whatever its status (skipped ones are left to the
    caller: the panel draws nothing for them)."""
    return next(iter(for_conversation(conversation, limit=1)), None)


def for_conversation(conversation: str, *, limit: int = 20) -> list[AIInteraction]:
    """The conversation's interactions, newest first."""
    return list(index_reads.query(AIInteraction.by_conversation, conversation, scan_index_forward=False, limit=limit))


def origin_of(interaction: AIInteraction) -> str:
    return ORIGIN_PREFIX + interaction.interactionId


def from_origin(origin: str) -> str | None:
    """The interaction id an ``origin`` names, or None when the text did not come from a suggestion."""
    if not origin.startswith(ORIGIN_PREFIX):
        return None
    return origin[len(ORIGIN_PREFIX) :] or None
