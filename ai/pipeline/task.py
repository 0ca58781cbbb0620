"""The Celery task that drafts a suggested reply to one inbound WhatsApp message (``ai-queue``).
It takes the message id, re-reads the message, claims it (idempotent on the message id), asks
Bedrock (ai/pipeline/generate.py), flags what a person must see and stores the draft. Bedrock
being unavailable (throttling, timeouts, a stream broken midway) is retried with exponential
backoff; after the last retry, or at once for a refusal, the interaction is marked failed and the
task parked on ``ai-dlq`` (wecare/dlq.py). The inbound message is never changed.
docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings

from ai import agent_settings
from ai.bedrock.calls import BedrockError, BedrockRefused, BedrockUnavailable
from ai.models import AgentSettings, Lead, Status
from ai.personas import queries as persona_queries
from ai.pipeline import flags, generate, lead_proposal, records, rules
from ai.pipeline.masking import mask
from ai.pipeline.prompts import PROMPT_VERSION
from ai.pipeline.reads import get_many
from contacts.models import Contact
from messaging.conversation_index import InboxConversation
from messaging.whatsapp_table import WaMessage
from wecare.dlq import DeadLetterTask, PermanentError
from wecare.dynamo import now
from wecare.metrics import emit

log = logging.getLogger("ai.pipeline")


class DraftTask(DeadLetterTask):
    """Retries only Bedrock being unavailable (1, 2, 4 s, with jitter); on the last failure marks the
    interaction failed before DeadLetterTask parks the task."""

    # Narrower than DeadLetterTask's (Exception,): a refusal or a bug is not worth another Bedrock bill.
    autoretry_for = (BedrockUnavailable,)  # type: ignore[assignment]
    max_retries = 3
    retry_backoff_max = 30

    def on_failure(self, exc, task_id, args, kwargs, einfo):  # Celery calls this after the last retry
        message_id = kwargs.get("wa_message_id") or (args[0] if args else None)
        if message_id:
            records.fail(message_id, f"{type(exc).__name__}: {exc}")
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(bind=True, base=DraftTask, name="ai.draft_reply")  # ai-queue (settings.CELERY_TASK_ROUTES)
def draft_reply(self: Any, wa_message_id: str, conversation: str, consent_signal: str | None = None) -> str:
    """What became of the message: a Status value, "automation_off", "no_message" or "duplicate"."""
    # The switch, the message and its conversation in one consistent read; the switch read here
    # also names the persona below (docs/design/agent.md, "The pipeline").
    stored_settings, message, conversation_item = get_many(
        (AgentSettings, agent_settings.ITEM),
        (WaMessage, WaMessage.key(wa_message_id)),
        (InboxConversation, conversation),
    )
    settings_item = agent_settings.or_default(stored_settings)
    if not settings_item.automation:
        return "automation_off"  # switched off since the message was queued: no item at all
    if message is None:
        return "no_message"
    fields = _message_fields(message)
    reason = rules.skip_reason(message, conversation_item, consent_signal)
    if reason is not None:
        status = Status.SUPERSEDED if reason == rules.Skip.NEWER_MESSAGE else Status.SKIPPED
        written = records.skip(wa_message_id, conversation=conversation, fields=fields, reason=reason, status=status)
        return status.value if written else "duplicate"
    retrying = bool(self.request.retries) or bool((self.request.headers or {}).get("dlq_replay"))
    item = records.claim(wa_message_id, conversation=conversation, fields=fields, retrying=retrying)
    if item is None:
        return "duplicate"
    try:
        status = _draft(item, message, conversation, settings_item)
    except BedrockError as exc:
        records.spent(item, exc.usage, exc.calls)  # the tokens a failed attempt used are billed too
        if isinstance(exc, BedrockRefused):
            raise PermanentError(str(exc)) from exc  # straight to the DLQ: another try cannot help
        raise
    return status.value


def _message_fields(message: WaMessage) -> dict[str, Any]:
    return {
        "contactId": message.contactId,
        "businessNumber": message.originationPhoneNumberId,
        "messageAt": message.receivedAt,
        "query": mask(rules.text_of(message)) or None,
    }


def _contact_and_lead(contact_id: str | None) -> tuple[Contact | None, Lead | None]:
    """The contact (its window and name) and its lead, if any, in one consistent read."""
    if not contact_id:
        return None, None
    contact, lead = get_many((Contact, contact_id), (Lead, contact_id))
    return contact, lead


def _draft(item: Any, message: WaMessage, conversation: str, settings_item: AgentSettings) -> Status:
    customer = mask(rules.text_of(message))
    contact, lead = _contact_and_lead(message.contactId)
    persona = persona_queries.active_for_number(message.originationPhoneNumberId, settings_item)
    window_open = contact is not None and contact.whatsapp_window_expires_at(now()) is not None
    name = (contact.name if contact else None) or message.senderName
    draft = generate.draft(
        customer,
        conversation=conversation,
        window_open=window_open,
        persona=persona,
        lead=lead,
        customer_name=name,
    )
    found = flags.check(
        draft.text, source_texts=draft.source_texts, customer_text=customer, return_control=draft.return_control
    )
    if draft.kind == "template" and draft.template is None:
        found.append(
            flags.flag(
                "no_template",
                "The customer's 24-hour window is closed and no approved template fits: answer with a template of "
                "your choice, or wait for the customer to write.",
            )
        )
    received = datetime.fromisoformat(message.receivedAt) if message.receivedAt else None
    stored = records.finish(
        item,
        {
            "response": draft.text or None,
            "kind": draft.kind,
            "template": draft.template,
            "sources": draft.sources,
            "flags": found,
            "intent": draft.analysis.intent,
            "entities": draft.analysis.entities,
            "summary": draft.analysis.summary or None,
            "leadProposal": lead_proposal.propose(draft.analysis.intent, draft.analysis.entities, lead, customer),
            "generator": draft.generator,
            "modelId": settings.BEDROCK_FOUNDATION_MODEL,
            "agentId": settings.BEDROCK_AGENT_ID if draft.generator == "agent" and draft.kind == "text" else None,
            "agentAliasId": settings.BEDROCK_AGENT_ALIAS_ID
            if draft.generator == "agent" and draft.kind == "text"
            else None,
            "knowledgeBaseId": settings.BEDROCK_KB_ID if draft.kind == "text" else None,
            "promptVersion": PROMPT_VERSION,
            "personaId": persona.personaId if persona else None,
            "personaVersion": persona.version if persona else None,
            # Added to what earlier attempts that failed used (records.spent).
            "usage": records.usage_with(item.usage, draft.usage, draft.calls),
            "latencyMs": int((now() - received).total_seconds() * 1000) if received else None,
        },
        superseded_by=rules.conversation_after(conversation, message.receivedAt or ""),
    )
    records.bedrock_result(
        conversation=conversation,
        message_id=item.messageId,
        content_type=message.type or "text",
        extracted=customer,
        analysis=draft.analysis,
        draft=draft.text,
    )
    emit("SuggestionDrafted", 1, "Count", Status=stored.value)
    log.info(
        "suggestion drafted",
        extra={"interaction_id": item.interactionId, "status": stored.value, "flags": [f["code"] for f in found]},
    )
    return stored
