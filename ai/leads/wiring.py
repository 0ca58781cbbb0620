"""What the leads part connects when the app starts (called from ai/apps.py): the lead panel at
the end of the inbox's contact pane (messaging/inbox/panels.py)."""

from messaging.inbox import panels


def connect() -> None:
    panels.register(panels.Slot.CONTACT, "ai:lead-panel", "Lead")
