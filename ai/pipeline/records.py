"""The pipeline's writes: the claim of a message (a conditional put, so each message is drafted
once however often it is announced), the draft stored on its claim, the failure, and the
``BEDROCK#{conversationId}#{messageId}`` summary in the WhatsApp table. A draft that finishes after
its conversation moved on (the claim was superseded meanwhile) is stored superseded, never pending.
docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from pynamodb.exceptions import PutError

from ai.bedrock.calls import Usage
from ai.models import AIInteraction, Status
from messaging.whatsapp_table import WaBedrockResult
from wecare.dynamo import now, update_if

# A claim still generating this long after its last attempt began belongs to a worker that died
# (acks_late redelivers the task): the redelivery takes it over.
STALE_CLAIM = timedelta(minutes=5)


def interaction_id(message_id: str) -> str:
    """The interaction's id, derived from the inbound message's: the claim's idempotency key."""
    return hashlib.sha256(f"whatsapp:{message_id}".encode()).hexdigest()[:32]


def _new(message_id: str, *, conversation: str, fields: dict[str, Any], status: Status) -> AIInteraction:
    at = now()
    return AIInteraction(
        interactionId=interaction_id(message_id),
        messageId=message_id,
        conversation=conversation,
        createdAt=at.isoformat(),
        day=at.date().isoformat(),
        status=status.value,
        attempts=1,
        attemptAt=at.isoformat(),
        expiresAt=timedelta(days=settings.AI_RETENTION_DAYS),
        **fields,
    )


def put_once(item: AIInteraction) -> bool:
    """Write ``item`` unless the message already has an interaction; False when it has."""
    try:
        item.save(condition=AIInteraction.interactionId.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get(message_id: str) -> AIInteraction | None:
    try:
        return AIInteraction.get(interaction_id(message_id), consistent_read=True)
    except AIInteraction.DoesNotExist:
        return None


def claim(message_id: str, *, conversation: str, fields: dict[str, Any], retrying: bool) -> AIInteraction | None:
    """The interaction this run may draft, status generating; None when another run owns it or it is
    done. A first run creates it; a Celery retry of this task continues it; a DLQ replay takes
    back a failed one; a redelivery after a worker died takes over a stale claim."""
    fresh = _new(message_id, conversation=conversation, fields=fields, status=Status.GENERATING)
    if put_once(fresh):
        return fresh
    item = get(message_id)
    if item is None or item.status not in (Status.GENERATING, Status.FAILED):
        return None
    if item.status == Status.GENERATING and not retrying and not _stale(item):
        return None  # a duplicate announcement while the first run is at work
    seen = item.attempts or 0
    taken = update_if(
        item,
        actions=[
            AIInteraction.status.set(Status.GENERATING.value),
            AIInteraction.statusReason.remove(),
            AIInteraction.attempts.set(seen + 1),
            AIInteraction.attemptAt.set(now().isoformat()),
        ],
        condition=(AIInteraction.attempts == seen) & AIInteraction.status.is_in(Status.GENERATING, Status.FAILED),
    )
    return item if taken else None


def _stale(item: AIInteraction) -> bool:
    began = item.attemptAt or item.createdAt
    return now() - datetime.fromisoformat(began) > STALE_CLAIM


def skip(message_id: str, *, conversation: str, fields: dict[str, Any], reason: str, status: Status) -> bool:
    """Record that the message gets no draft (skipped, or superseded before it began)."""
    return put_once(
        _new(message_id, conversation=conversation, fields={**fields, "statusReason": reason}, status=status)
    )


def finish(item: AIInteraction, fields: dict[str, Any], *, superseded_by: str | None) -> Status:
    """Store the draft: pending if the claim is still generating and the conversation has not moved
    on (``superseded_by`` is its reason otherwise), else kept superseded with the draft for the log."""
    actions = [getattr(AIInteraction, name).set(value) for name, value in fields.items() if value is not None]
    if superseded_by is None:
        pending = [*actions, AIInteraction.status.set(Status.PENDING.value)]
        if update_if(item, actions=pending, condition=AIInteraction.status == Status.GENERATING.value):
            return Status.PENDING
    superseded = [
        *actions,
        AIInteraction.status.set(Status.SUPERSEDED.value),
        AIInteraction.statusReason.set(superseded_by or "newer_message"),
    ]
    # Generating: the conversation moved on while the draft was written. Superseded: a listener got
    # there first; its reason stays.
    if update_if(item, actions=superseded, condition=AIInteraction.status == Status.GENERATING.value):
        return Status.SUPERSEDED
    update_if(item, actions=actions, condition=AIInteraction.status == Status.SUPERSEDED.value)
    return Status(get(item.messageId).status)  # type: ignore[union-attr]


def usage_with(earlier: dict[str, Any] | None, usage: Usage | None, calls: dict[str, int] | None) -> dict[str, Any]:
    """``earlier`` (an interaction's stored usage: the attempts that failed before) plus one more
    attempt's tokens and calls: every attempt that reached Bedrock is billed, so all are counted."""
    earlier = earlier or {}
    counted = dict(earlier.get("calls") or {})
    for name, n in (calls or {}).items():
        counted[name] = counted.get(name, 0) + n
    return {
        "inputTokens": int(earlier.get("inputTokens") or 0) + (usage.input_tokens if usage else 0),
        "outputTokens": int(earlier.get("outputTokens") or 0) + (usage.output_tokens if usage else 0),
        "calls": counted,
    }


def spent(item: AIInteraction, usage: Usage | None, calls: dict[str, int] | None) -> None:
    """Keep what an attempt that failed used, on the interaction it was drafting (still generating:
    the next attempt, or ``fail``, takes it from there)."""
    if not calls:
        return  # failed before any call
    update_if(
        item,
        actions=[AIInteraction.usage.set(usage_with(item.usage, usage, calls))],
        condition=AIInteraction.status == Status.GENERATING.value,
    )


def fail(message_id: str, reason: str) -> bool:
    """Bedrock kept failing (or refused): the interaction is failed; its message is untouched."""
    item = AIInteraction(interactionId=interaction_id(message_id))
    return update_if(
        item,
        actions=[AIInteraction.status.set(Status.FAILED.value), AIInteraction.statusReason.set(reason[:500])],
        condition=AIInteraction.status == Status.GENERATING.value,
    )


def bedrock_result(
    *, conversation: str, message_id: str, content_type: str, extracted: str, analysis: Any, draft: str
) -> None:
    """The single-table contract's summary of what the model read (WaBedrockResult)."""
    WaBedrockResult(
        pk=f"BEDROCK#{conversation}#{message_id}",
        messageId=message_id,
        conversationId=conversation,
        contentType=content_type,
        summary=analysis.summary or None,
        extractedText=extracted,
        entities=dict(analysis.entities) or None,
        intent=analysis.intent,
        replyDraft=draft or None,
        processedAt=now().isoformat(),
        receivedAt=now().isoformat(),
        ttl=timedelta(days=settings.AI_RETENTION_DAYS),
    ).save()
