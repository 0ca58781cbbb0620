"""Who owns a conversation and where it stands: assign (to oneself, a colleague, nobody), open →
pending → resolved and back, and undo. docs/design/inbox.md, "Conversation work".

Every change is a conditional update on the value the person saw, so two people acting at once
get one winner and a sentence naming what the other did; an undo restores the value before only
while nothing has changed since (its condition is the change it undoes). Each change is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Q
from django.utils.timesince import timesince

from messaging.conversation_index import InboxConversation, Status
from wecare import audit
from wecare.dynamo import now, update_if
from wecare.errors import DomainError, FieldErrors, NotFound

UNDO_SHOWN_SECONDS = 10  # how long the page offers Undo
UNDO_VALID_SECONDS = 60  # a late click (a slow network) still undoes; a stale page's does not
_UNDO_SALT = "messaging.inbox.ownership.undo"
KEY = re.compile(r"^(whatsapp~[^~/\s]{1,64}~[^~/\s]{1,200}|sms~\+\d{4,15}~\+\d{4,15}|email~[0-9A-HJKMNP-TV-Z]{26})$")


class Changed(DomainError):
    """Someone else changed it since the page was drawn (409): the sentence says who and what."""

    status = 409


@dataclass(frozen=True)
class Change:
    conversation: InboxConversation
    sentence: str  # "Assigned to Priya", "Resolved"
    undo_token: str | None


# --- reading ------------------------------------------------------------------------------------


def get(key: str) -> InboxConversation:
    """The conversation's inbox item; NotFound for a key no conversation has (or not a key)."""
    if not KEY.match(key or ""):
        raise NotFound("no such conversation")
    try:
        return InboxConversation.get(key, consistent_read=True)
    except InboxConversation.DoesNotExist:
        raise NotFound("no such conversation") from None


def colleagues() -> list[Any]:
    """The people a conversation can be assigned to: active operators and admins, by username."""
    users = get_user_model().objects.filter(is_active=True)
    return list(
        users.filter(Q(is_superuser=True) | Q(groups__name__in=["Operator", "Admin"])).distinct().order_by("username")
    )


def name_of(username: str | None) -> str:
    """How the page names a person: their first name, else their username."""
    if not username:
        return "nobody"
    user = get_user_model().objects.filter(username=username).first()
    return (user.first_name or user.get_username()) if user else username


def _ago(iso: str | None) -> str:
    if not iso:
        return "a moment ago"
    seconds = (now() - datetime.fromisoformat(iso)).total_seconds()
    return "a moment ago" if seconds < 60 else f"{timesince(datetime.fromisoformat(iso), now())} ago"


def assignment_sentence(conv: InboxConversation) -> str:
    """What the last assignment was, as a person reads it ("Priya took it a moment ago")."""
    by, to = conv.assignedBy, conv.assignee
    if not to:
        return f"{name_of(by)} unassigned it {_ago(conv.assignedAt)}"
    if by == to:
        return f"{name_of(by)} assigned it to themselves {_ago(conv.assignedAt)}"
    return f"{name_of(by)} assigned it to {name_of(to)} {_ago(conv.assignedAt)}"


def status_sentence(conv: InboxConversation) -> str:
    return f"{name_of(conv.statusBy)} marked it {conv.status} {_ago(conv.statusAt)}"


# --- changing -----------------------------------------------------------------------------------


def _same(attribute: Any, value: str | None) -> Any:
    return attribute.does_not_exist() if value is None else attribute == value


def assign(conv: InboxConversation, to: str | None, *, expected: str | None, user: Any) -> Change:
    """Assign to ``to`` (a username; None unassigns) if the assignee is still ``expected``."""
    to = to or None
    if to is not None and to not in {u.get_username() for u in colleagues()}:
        raise FieldErrors({"assignee": "is not an operator or admin"})
    at, by = now().isoformat(), audit.actor_id(user)
    I = InboxConversation  # noqa: E741 - the attribute paths read better short
    actions = [I.assignedAt.set(at), I.assignedBy.set(by), I.assignee.set(to) if to else I.assignee.remove()]
    if not update_if(conv, actions=actions, condition=I.key.exists() & _same(I.assignee, expected)):
        conv.refresh(consistent_read=True)
        raise Changed(assignment_sentence(conv))
    conv.refresh(consistent_read=True)
    audit.record(user, "conversation.assign", "conversation", conv.key, assignee=to, before=expected)
    token = _undo_token(conv.key, "assignee", before=expected, after=to, at=at)
    to_whom = "you" if to == by else name_of(to)
    return Change(conv, f"Assigned to {to_whom}" if to else "Unassigned", token)


def set_status(conv: InboxConversation, status: str, *, expected: str, user: Any) -> Change:
    """Move to ``status`` (open, pending, resolved) if it is still ``expected``."""
    if status not in set(Status):
        raise FieldErrors({"status": "must be open, pending or resolved"})
    at, by = now().isoformat(), audit.actor_id(user)
    I = InboxConversation  # noqa: E741
    actions = [I.status.set(status), I.statusAt.set(at), I.statusBy.set(by)]
    if not update_if(conv, actions=actions, condition=I.key.exists() & (I.status == expected)):
        conv.refresh(consistent_read=True)
        raise Changed(status_sentence(conv))
    conv.refresh(consistent_read=True)
    audit.record(user, "conversation.status", "conversation", conv.key, status=status, before=expected)
    token = _undo_token(conv.key, "status", before=expected, after=status, at=at)
    return Change(conv, {"open": "Reopened", "pending": "Marked pending", "resolved": "Resolved"}[status], token)


def _undo_token(key: str, field: str, *, before: str | None, after: str | None, at: str) -> str:
    return signing.dumps({"key": key, "field": field, "before": before, "after": after, "at": at}, salt=_UNDO_SALT)


def undo(key: str, token: str, *, user: Any) -> Change:
    """Put back what a change replaced, only while the change is still the last one made."""
    try:
        change = signing.loads(token, salt=_UNDO_SALT, max_age=UNDO_VALID_SECONDS)
    except signing.BadSignature:
        raise FieldErrors({"token": "this undo has expired"}) from None
    if change["key"] != key:
        raise FieldErrors({"token": "is for another conversation"})
    conv = get(key)
    I = InboxConversation  # noqa: E741
    at, by, before = now().isoformat(), audit.actor_id(user), change["before"]
    if change["field"] == "assignee":
        actions = [
            I.assignedAt.set(at),
            I.assignedBy.set(by),
            I.assignee.set(before) if before else I.assignee.remove(),
        ]
        still = _same(I.assignee, change["after"]) & (I.assignedAt == change["at"])
        sentence = assignment_sentence
    else:
        actions = [I.status.set(before), I.statusAt.set(at), I.statusBy.set(by)]
        still = (I.status == change["after"]) & (I.statusAt == change["at"])
        sentence = status_sentence
    if not update_if(conv, actions=actions, condition=still):
        conv.refresh(consistent_read=True)
        raise Changed(f"Not undone: {sentence(conv)}")
    conv.refresh(consistent_read=True)
    audit.record(user, f"conversation.{change['field']}.undo", "conversation", key, restored=before)
    return Change(conv, "Undone", None)
