"""What the pipeline connects when the app starts (called from ai/apps.py): a customer's WhatsApp
message queues a draft when automation is on (off: nothing is written, and within a few seconds
nothing is queued), and any new message in a conversation supersedes its open suggestions.
docs/design/agent.md.
"""

from __future__ import annotations

from typing import Any

from ai import agent_settings
from ai.pipeline import supersession
from ai.pipeline.task import draft_reply
from messaging import signals


def on_inbound(sender: Any = None, *, event: dict[str, Any], conversation: str | None, **_: Any) -> None:
    # The switch as read a few seconds ago at most (agent_settings.SWITCH_MAX_AGE_SECONDS): the task
    # checks it again, consistently, before it writes anything.
    if not conversation or not event.get("waMessageId") or not agent_settings.automation_on_lately():
        return
    draft_reply.delay(event["waMessageId"], conversation, event.get("consentSignal"))


def connect() -> None:
    signals.inbound_recorded.connect(on_inbound, dispatch_uid="ai.pipeline.on_inbound")
    signals.conversation_message.connect(
        supersession.on_conversation_message, dispatch_uid="ai.pipeline.on_conversation_message"
    )
