"""Places in the inbox where an app above messaging shows a panel of its own, without messaging
importing it: the app registers a URL name for a slot in its ``AppConfig.ready()``, and the inbox
draws a placeholder that htmx fills from that URL (the AI's suggested replies above the composer,
its lead facts in the contact pane). The dependency stays one way (docs/design/README.md).

A panel URL takes the conversation's inbox key as its one argument and answers an HTML fragment
(an empty answer draws nothing). It is loaded when the thread opens and again whenever the thread
hears of a new message, so a panel stays as current as the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.urls import reverse


class Slot(StrEnum):
    COMPOSER = "composer"  # above the reply box, under the timeline
    CONTACT = "contact"  # at the end of the contact pane


@dataclass(frozen=True)
class Panel:
    slot: Slot
    url_name: str  # reversed with the conversation's inbox key
    label: str  # what the placeholder is called for a screen reader while it loads


_PANELS: list[Panel] = []


def register(slot: Slot, url_name: str, label: str) -> None:
    """Called from an app's ready(); registering the same panel twice keeps one."""
    panel = Panel(slot, url_name, label)
    if panel not in _PANELS:
        _PANELS.append(panel)


def for_slot(slot: Slot, conversation: str) -> list[dict[str, str]]:
    """What the inbox's templates draw for ``slot``: each panel's URL for this conversation."""
    return [
        {"url": reverse(p.url_name, args=[conversation]), "label": p.label, "name": p.url_name.replace(":", "-")}
        for p in _PANELS
        if p.slot == slot
    ]
