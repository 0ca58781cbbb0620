"""Private notes on a conversation, visible only to staff.

PLACEHOLDER written by the lead so the inbox timeline can code against ``in_range``; engineer B's
branch replaces this module (same signature).
"""

from __future__ import annotations

from typing import Any


def in_range(conversation_key: str, oldest: str | None, newest: str | None) -> list[Any]:
    """The conversation's notes written between two ISO times (either end open), oldest first.
    Each note has ``at`` (ISO), ``author`` and ``text``; the timeline draws it with
    messaging/inbox/work/_note.html."""
    return []
