"""What the conversation-work partials draw (status, owner, labels, who else is here, canned
replies), built once for the inbox page's includes (messaging/templatetags/inbox_work.py) and for
the fragments this work's own views answer with. docs/design/inbox.md, "Conversation work"."""

from __future__ import annotations

import hashlib
from typing import Any

from messaging.conversation_index import SYSTEM_ACTOR, InboxConversation, Status
from messaging.inbox import canned, labels, ownership, presence

NEXT_STATUSES = {
    # status shown -> the moves offered, as (status, button label)
    Status.OPEN.value: [(Status.PENDING.value, "Pending"), (Status.RESOLVED.value, "Resolve")],
    Status.PENDING.value: [(Status.OPEN.value, "Reopen"), (Status.RESOLVED.value, "Resolve")],
    Status.RESOLVED.value: [(Status.OPEN.value, "Reopen")],
}


def live(conv: InboxConversation, user: Any, *, can_act: bool, opened: str | None) -> dict[str, Any]:
    """The polled part of the header: what may change while the page is open."""
    me = user.get_username()
    here = [{"name": ownership.name_of(p.username), "typing": p.typing} for p in presence.others(conv.key, user)]
    replied_by = ""
    if (
        opened
        and conv.lastAt > opened
        and conv.lastDirection == "outbound"
        and conv.lastBy not in (None, me, SYSTEM_ACTOR)
    ):
        replied_by = ownership.name_of(conv.lastBy)
    shown = [conv.status, conv.assignee, sorted(conv.labels or ()), conv.lastAt, here, replied_by, can_act]
    return {
        "conv": conv,
        "conv_key": conv.key,
        "user": user,
        "can_act": can_act,
        "labels": sorted(conv.labels or ()),
        "assignee_name": ownership.name_of(conv.assignee) if conv.assignee else "",
        "mine": conv.assignee == me,
        "moves": NEXT_STATUSES.get(conv.status, NEXT_STATUSES[Status.OPEN.value]),
        "colleagues": [(u.get_username(), u.first_name or u.get_username()) for u in ownership.colleagues()]
        if can_act
        else [],
        "present": here,
        "replied_by": replied_by,
        "opened": opened or conv.lastAt,
        "seen": hashlib.sha256(repr(shown).encode()).hexdigest()[:16],
    }


def header(conv: InboxConversation, user: Any, *, can_act: bool, opened: str | None = None, **extra: Any) -> dict:
    return {
        **live(conv, user, can_act=can_act, opened=opened or conv.lastAt),
        "suggestions": labels.suggestions() if can_act else [],
        "undo_seconds": ownership.UNDO_SHOWN_SECONDS,
        **extra,
    }


def composer(conv: InboxConversation, user: Any, *, can_act: bool) -> dict[str, Any]:
    known = canned.values(contact_name=conv.contactName, agent=user)
    replies = [{"shortcut": r.shortcut, "text": canned.render(r.text, known)} for r in canned.all_replies()]
    return {"conv": conv, "conv_key": conv.key, "can_act": can_act, "canned": replies}
