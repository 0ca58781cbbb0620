"""Canned replies: texts admins keep under a shortcut, which an operator inserts in the composer by
typing ``/`` and the shortcut. A text may name the contact, the agent and the business with
``{{contact.name}}``-style variables. docs/design/inbox.md, "Conversation work".

Variables are replaced by plain string substitution, never by a template engine: an admin's text
cannot reach anything but the four values below, and a variable we do not know stays as written so
the operator sees it before sending.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from wecare import audit
from wecare.dynamo import DynamoModel, meta, now, register
from wecare.errors import Conflict, NotFound

MAX_TEXT = 1000
MAX_REPLIES = 200  # read in one bounded scan; the picker lists them all
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
VARIABLES = ("contact.name", "contact.first_name", "agent.name", "business.name")


@register
class CannedReply(DynamoModel):
    Meta = meta("CannedReplies")
    shortcut = UnicodeAttribute(hash_key=True)
    text = UnicodeAttribute()
    updatedBy = UnicodeAttribute(null=True)
    updatedAt = UnicodeAttribute(null=True)


def all_replies() -> list[CannedReply]:
    return sorted(CannedReply.scan(limit=MAX_REPLIES), key=lambda r: r.shortcut)


def get(shortcut: str) -> CannedReply:
    try:
        return CannedReply.get(shortcut, consistent_read=True)
    except CannedReply.DoesNotExist:
        raise NotFound(f"no canned reply /{shortcut}") from None


def save(shortcut: str, text: str, *, user: Any, creating: bool) -> CannedReply:
    """Create (refused if the shortcut is taken) or replace one; values already validated
    (messaging/inbox/canned_forms.py). Audited with the text before."""
    before = None if creating else get(shortcut).text
    reply = CannedReply(shortcut=shortcut, text=text, updatedBy=audit.actor_id(user), updatedAt=now().isoformat())
    if creating:
        try:
            reply.save(condition=CannedReply.shortcut.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"/{shortcut} already exists", field="shortcut") from None
            raise
    else:
        reply.save()
    audit.record(user, "canned_reply.save", "canned_reply", shortcut, text=text, before=before)
    return reply


def delete(shortcut: str, *, user: Any) -> None:
    reply = get(shortcut)
    reply.delete()
    audit.record(user, "canned_reply.delete", "canned_reply", shortcut, before=reply.text)


def values(*, contact_name: str | None, agent: Any) -> dict[str, str]:
    """The variables' values for one conversation and the person writing."""
    name = (contact_name or "").strip()
    agent_name = (agent.get_full_name() or agent.get_username()) if agent is not None else ""
    return {
        "contact.name": name,
        "contact.first_name": name.split()[0] if name else "",
        "agent.name": agent_name,
        "business.name": settings.SES_SENDER_NAME,  # the name our mail goes out under
    }


def render(text: str, known: dict[str, str]) -> str:
    """``text`` with each known variable replaced; unknown ones (and known ones without a value,
    such as a contact with no name) are left as written for the operator to fill in."""
    return VARIABLE.sub(lambda m: known.get(m.group(1)) or m.group(0), text)
