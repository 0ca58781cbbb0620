"""What the suggestions part connects when the app starts (called from ai/apps.py): the inbox
panel above the composer, and the composer's reply signals, through which a draft Use put in the
box is recorded as used or edited (or blocked) when the operator sends it, and a composer send of
a suggestion a colleague already sent asks the operator first.
docs/design/agent.md, "Suggestions in the inbox".
"""

from __future__ import annotations

from typing import Any

from ai.suggestions import actions
from messaging import signals
from messaging.inbox import panels

PANEL_URL = "ai:suggestion"


def _check(sender: Any, *, conversation: str, origin: str, text: str, **_: Any) -> str | None:
    return actions.composer_check(conversation, origin, text)


def _sending(sender: Any, *, conversation: str, origin: str, text: str, user: Any, attempt: str, **_: Any) -> None:
    actions.composer_sending(conversation, origin, text, user, attempt)


def _sent(sender: Any, *, conversation: str, origin: str, message_id: str, user: Any, attempt: str, **_: Any) -> None:
    actions.composer_sent(conversation, origin, message_id, user, attempt)


def _refused(
    sender: Any, *, conversation: str, origin: str, reason: str, code: str, user: Any, attempt: str, **_: Any
) -> None:
    actions.composer_refused(conversation, origin, reason, code, user, attempt)


def _failed(sender: Any, *, conversation: str, origin: str, reason: str, attempt: str, **_: Any) -> None:
    actions.composer_failed(conversation, origin, reason, attempt)


def connect() -> None:
    panels.register(panels.Slot.COMPOSER, PANEL_URL, "Suggested reply")
    signals.reply_check.connect(_check, dispatch_uid="ai.suggestions.reply_check")
    signals.reply_sending.connect(_sending, dispatch_uid="ai.suggestions.reply_sending")
    signals.reply_sent.connect(_sent, dispatch_uid="ai.suggestions.reply_sent")
    signals.reply_refused.connect(_refused, dispatch_uid="ai.suggestions.reply_refused")
    signals.reply_failed.connect(_failed, dispatch_uid="ai.suggestions.reply_failed")
