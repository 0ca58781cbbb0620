"""What the suggestions part connects when the app starts (called from ai/apps.py): the inbox
panel above the composer, and the composer's reply signals, through which a draft Use put in the
box is recorded as used or edited (or blocked) when the operator sends it.
docs/design/agent.md, "Suggestions in the inbox".
"""

from __future__ import annotations

from typing import Any

from ai.suggestions import actions
from messaging import signals
from messaging.inbox import panels

PANEL_URL = "ai:suggestion"


def _sending(sender: Any, *, conversation: str, origin: str, text: str, user: Any, **_: Any) -> None:
    actions.composer_sending(conversation, origin, text, user)


def _sent(sender: Any, *, conversation: str, origin: str, message_id: str, **_: Any) -> None:
    actions.composer_sent(conversation, origin, message_id)


def _refused(sender: Any, *, conversation: str, origin: str, reason: str, **_: Any) -> None:
    actions.composer_refused(conversation, origin, reason)


def connect() -> None:
    panels.register(panels.Slot.COMPOSER, PANEL_URL, "Suggested reply")
    signals.reply_sending.connect(_sending, dispatch_uid="ai.suggestions.reply_sending")
    signals.reply_sent.connect(_sent, dispatch_uid="ai.suggestions.reply_sent")
    signals.reply_refused.connect(_refused, dispatch_uid="ai.suggestions.reply_refused")
