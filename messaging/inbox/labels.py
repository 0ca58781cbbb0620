"""Labels on a conversation ("refund", "vip"): free-form words staff add and remove, kept as the
inbox item's ``labels`` set (the list filters on it), with the labels already in use offered as
suggestions. docs/design/inbox.md, "Conversation work".
"""

from __future__ import annotations

import re
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.expressions.condition import size

from messaging.conversation_index import InboxConversation
from wecare import audit
from wecare.dynamo import DynamoModel, meta, now, register, update_if
from wecare.errors import FieldErrors

MAX_LABEL = 30
MAX_LABELS = 10  # on one conversation
MAX_SUGGESTIONS = 200
# Lower case letters, digits, spaces, hyphens: one spelling per label, so "VIP" and "vip" are one filter.
LABEL = re.compile(r"^[\w][\w -]*$")


@register
class KnownLabel(DynamoModel):
    """A label someone has used: the suggestions. Never removed with the last conversation using it,
    so a seasonal label is still offered next season."""

    Meta = meta("InboxLabels")
    label = UnicodeAttribute(hash_key=True)
    firstBy = UnicodeAttribute(null=True)
    firstAt = UnicodeAttribute(null=True)


def clean(label: str) -> str:
    value = " ".join((label or "").split()).lower()
    if not value or len(value) > MAX_LABEL or not LABEL.match(value):
        raise FieldErrors({"label": f"1 to {MAX_LABEL} letters, digits, spaces or hyphens"})
    return value


def add(conv: InboxConversation, label: str, *, user: Any) -> InboxConversation:
    value = clean(label)
    current = set(conv.labels or ())
    if value in current:
        return conv
    full = FieldErrors({"label": f"a conversation keeps at most {MAX_LABELS} labels"})
    if len(current) >= MAX_LABELS:
        raise full
    # The bound is the write's condition too: two people adding labels at once cannot pass it.
    I = InboxConversation  # noqa: E741 - the attribute paths read better short
    room = I.labels.does_not_exist() | (size(I.labels) < MAX_LABELS)
    if not update_if(conv, actions=[I.labels.add({value})], condition=I.key.exists() & room):
        raise full
    _remember(value, user)
    audit.record(user, "conversation.label.add", "conversation", conv.key, label=value)
    return conv


def _remember(label: str, user: Any) -> None:
    try:
        KnownLabel(label=label, firstBy=audit.actor_id(user), firstAt=now().isoformat()).save(
            condition=KnownLabel.label.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":  # else known: its first use stays
            raise


def remove(conv: InboxConversation, label: str, *, user: Any) -> InboxConversation:
    value = clean(label)
    if value in set(conv.labels or ()):
        conv.update(actions=[InboxConversation.labels.delete({value})], condition=InboxConversation.key.exists())
        audit.record(user, "conversation.label.remove", "conversation", conv.key, label=value)
    return conv


def suggestions() -> list[str]:
    """The labels in use, alphabetically (a bounded read: at most ``MAX_SUGGESTIONS``)."""
    return sorted(k.label for k in KnownLabel.scan(limit=MAX_SUGGESTIONS))
