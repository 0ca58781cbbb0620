"""What a composer may offer before anyone types: whether a send on this channel and kind would be
allowed, and if not, why in plain words and what fixes it. The gate stays the one decider at send
time; this only asks it early.

PLACEHOLDER written by the lead so the inbox can code against ``check``; engineer C's branch
replaces this module with the real one (same signature).
"""

from __future__ import annotations

from dataclasses import dataclass

from contacts.models import Contact


@dataclass(frozen=True)
class ComposeCheck:
    allowed: bool
    sentence: str
    fix_label: str | None = None
    fix_url: str | None = None
    kinds_allowed: tuple[str, ...] = ("text", "template")


def check(contact: Contact | None, channel: str, kind: str, sender: str | None) -> ComposeCheck:
    return ComposeCheck(allowed=True, sentence="")
