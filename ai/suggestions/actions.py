"""What a person does with a suggestion: send it as drafted, send it after editing it in the
composer, discard it, rate it. Every send goes through the one send path
(``messaging.outbound.send.send_message``, source ``ai_suggestion``), so consent, the allowlist,
the 24-hour window and DRY_RUN apply as they do to anything a person types; nothing here sends
without a person's request. docs/design/agent.md, "Suggestions in the inbox".

A send is claimed first: the interaction leaves ``pending`` (for ``used`` or ``edited``) in one
conditional update before the send path is asked, so two people never both send one suggestion,
and the pipeline's supersession (which moves only pending ones) cannot overtake a send under way.
"""

from __future__ import annotations

import difflib
from typing import Any

from ai.models import AIInteraction, Status
from ai.suggestions import queries
from messaging.inbox import queries as wa_queries
from messaging.outbound import send
from wecare import audit
from wecare.dynamo import now, update_if
from wecare.errors import Conflict, FieldErrors, NotFound

SOURCE = "ai_suggestion"  # what the audit log and the send path name as a suggestion's send
RATINGS = ("helpful", "not_helpful")
REASONS = ("incorrect", "incomplete", "tone", "outdated", "other")
MAX_RATING_NOTE = 500

STATE_WORDS = {
    Status.GENERATING: "is still being drafted",
    Status.USED: "was already sent",
    Status.EDITED: "was already sent, edited",
    Status.DISCARDED: "was discarded",
    Status.SUPERSEDED: "was set aside: the conversation moved on",
    Status.BLOCKED: "was refused by the safety gate",
    Status.SKIPPED: "was never drafted",
    Status.FAILED: "could not be drafted",
}


def _not_pending(interaction: AIInteraction) -> Conflict:
    who = f" by {interaction.approvedBy}" if interaction.approvedBy else ""
    state = STATE_WORDS.get(Status(interaction.status), interaction.status)
    return Conflict(f"This suggestion {state}{who}; there is nothing left to do with it.", field="status")


def sendable(interaction: AIInteraction) -> dict[str, Any] | None:
    """What the suggestion would send, in the shape ``send_message`` takes (``text``, or a
    ``template`` with its values), or None when it proposes nothing sendable (the window is closed
    and no approved template fits)."""
    if interaction.kind == "template":
        template = interaction.template or {}
        if not template.get("name"):
            return None
        values = template.get("parameters", template.get("values")) or []
        parameters = values if isinstance(values, dict) else {"body": list(values)}
        return {"template": {"name": template["name"], "language": template.get("language"), "parameters": parameters}}
    return {"text": interaction.response} if (interaction.response or "").strip() else None


def edit_of(draft: str, sent: str) -> tuple[str, float]:
    """The edit as a unified diff (draft -> sent) and how much changed: 0 as drafted, 1 rewritten."""
    diff = "\n".join(difflib.unified_diff(draft.splitlines(), sent.splitlines(), "draft", "sent", lineterm="", n=1))
    ratio = 1 - difflib.SequenceMatcher(None, draft, sent, autojunk=False).ratio()
    return diff, round(ratio, 3)


def claim(interaction: AIInteraction, *, sent_text: str | None, user: Any) -> AIInteraction:
    """pending -> used (sent as drafted) or edited (``sent_text`` differs), before the send.
    Conflict when it is no longer pending (someone else acted, or the conversation moved on)."""
    draft = interaction.response or ""
    actions = [AIInteraction.approvedBy.set(audit.actor_id(user)), AIInteraction.actedAt.set(now().isoformat())]
    if sent_text is None or interaction.kind == "template" or sent_text == draft:
        actions.append(AIInteraction.status.set(Status.USED.value))
    else:
        diff, ratio = edit_of(draft, sent_text)
        actions += [
            AIInteraction.status.set(Status.EDITED.value),
            AIInteraction.sentText.set(sent_text),
            AIInteraction.edit.set(diff),
            AIInteraction.editRatio.set(ratio),
        ]
    if not update_if(interaction, actions=actions, condition=AIInteraction.status == Status.PENDING.value):
        interaction.refresh(consistent_read=True)
        raise _not_pending(interaction)
    return interaction


def record_sent(interaction: AIInteraction, message_id: str) -> None:
    """The claimed suggestion became this outbound message."""
    update_if(
        interaction,
        actions=[AIInteraction.sentMessageId.set(message_id)],
        condition=AIInteraction.status.is_in(Status.USED.value, Status.EDITED.value)
        & AIInteraction.sentMessageId.does_not_exist(),
    )


def record_blocked(interaction: AIInteraction, reason: str) -> None:
    """The claimed suggestion's send was refused (the gate's sentence): ``blocked``, with why."""
    update_if(
        interaction,
        actions=[AIInteraction.status.set(Status.BLOCKED.value), AIInteraction.statusReason.set(reason)],
        condition=AIInteraction.status.is_in(Status.USED.value, Status.EDITED.value)
        & AIInteraction.sentMessageId.does_not_exist(),
    )


def _release(interaction: AIInteraction) -> None:
    update_if(
        interaction,
        actions=[
            AIInteraction.status.set(Status.PENDING.value),
            AIInteraction.approvedBy.remove(),
            AIInteraction.actedAt.remove(),
        ],
        condition=(AIInteraction.status == Status.USED.value) & AIInteraction.sentMessageId.does_not_exist(),
    )


def _recipient(interaction: AIInteraction) -> dict[str, Any]:
    """Whom and from where: the conversation's contact as it is now and its business number.
    Suggestions answer WhatsApp messages, so the conversation is a WhatsApp one the customer began."""
    conversation = wa_queries.get_conversation(interaction.conversation.split("~", 1)[-1])
    contact = wa_queries.contact_for(conversation)
    if contact is None:
        raise NotFound("the conversation's contact no longer exists")
    sender = conversation.originationPhoneNumberId or interaction.businessNumber
    return {"contactId": contact.contactId, "channel": "whatsapp", "sender": sender}


def send_as_drafted(interaction_id: str, *, user: Any) -> AIInteraction:
    """Send the suggestion as it stands (the panel's Send). Raises ``send.Refused`` (the
    interaction is then ``blocked`` with the gate's sentence), Conflict when it is not pending,
    FieldErrors when it proposes nothing sendable."""
    interaction = queries.get(interaction_id)
    if interaction.status != Status.PENDING.value:
        raise _not_pending(interaction)
    content = sendable(interaction)
    if content is None:
        raise FieldErrors({"suggestion": "it proposes nothing to send; write the reply in the composer"})
    request = {**_recipient(interaction), **content}
    claim(interaction, sent_text=None, user=user)
    try:
        message = send.send_message(request, user=user, source=SOURCE)
    except send.Refused as exc:
        record_blocked(interaction, str(exc))
        audit.record(user, "ai.suggestion.blocked", "ai_interaction", interaction_id, code=exc.code)
        raise
    except (FieldErrors, NotFound) as exc:
        record_blocked(interaction, str(exc))
        raise
    except Exception:
        # Nothing was queued (the send path failed before its write, e.g. DynamoDB unreachable):
        # the suggestion goes back to pending, so a person can send it again.
        _release(interaction)
        raise
    record_sent(interaction, message.messageId)
    audit.record(user, "ai.suggestion.send", "ai_interaction", interaction_id, messageId=message.messageId)
    interaction.refresh(consistent_read=True)
    return interaction


def discard(interaction_id: str, *, user: Any) -> AIInteraction:
    interaction = queries.get(interaction_id)
    done = update_if(
        interaction,
        actions=[
            AIInteraction.status.set(Status.DISCARDED.value),
            AIInteraction.approvedBy.set(audit.actor_id(user)),
            AIInteraction.actedAt.set(now().isoformat()),
        ],
        condition=AIInteraction.status == Status.PENDING.value,
    )
    interaction.refresh(consistent_read=True)
    if not done:
        raise _not_pending(interaction)
    audit.record(user, "ai.suggestion.discard", "ai_interaction", interaction_id)
    return interaction


def rate(interaction_id: str, *, rating: str, reason: str | None, note: str | None, user: Any) -> AIInteraction:
    """Helpful or not (with a reason and a note). Any drafted suggestion can be rated, before or
    after it was acted on; a second rating replaces the first."""
    errors: dict[str, str] = {}
    reason = (reason or "").strip() or None
    note = (note or "").strip() or None
    if rating not in RATINGS:
        errors["rating"] = "must be helpful or not_helpful"
    if reason is not None and reason not in REASONS:
        errors["reason"] = "must be one of " + ", ".join(REASONS)
    if reason is not None and rating == "helpful":
        errors["reason"] = "is for a suggestion that was not helpful"
    if note and len(note) > MAX_RATING_NOTE:
        errors["note"] = f"is {len(note)} characters; at most {MAX_RATING_NOTE}"
    if errors:
        raise FieldErrors(errors)
    interaction = queries.get(interaction_id)
    if not (interaction.response or interaction.template):
        raise Conflict("There is no draft to rate yet.", field="status")
    interaction.update(
        actions=[
            AIInteraction.rating.set(rating),
            AIInteraction.ratingReason.remove() if reason is None else AIInteraction.ratingReason.set(reason),
            AIInteraction.ratingNote.remove() if note is None else AIInteraction.ratingNote.set(note),
            AIInteraction.ratedBy.set(audit.actor_id(user)),
        ]
    )
    audit.record(user, "ai.suggestion.rate", "ai_interaction", interaction_id, rating=rating, reason=reason)
    return interaction


def note_use(interaction_id: str, *, user: Any) -> AIInteraction:
    """The draft went into the composer (Use): audited; it stays pending until the composer's
    send claims it (``from_composer``)."""
    interaction = queries.get(interaction_id)
    if interaction.status != Status.PENDING.value:
        raise _not_pending(interaction)
    audit.record(user, "ai.suggestion.use", "ai_interaction", interaction_id)
    return interaction


# --- the composer's send of a draft Use put there (messaging/signals.py reply_*) --------------


def composer_sending(conversation: str, origin: str, text: str, user: Any) -> None:
    """An operator is sending, from the composer, text that began as this suggestion: claim it as
    used (unchanged) or edited (with the diff). One no longer pending is left as it is: the
    operator's own message goes anyway, it is theirs."""
    if not text:
        return  # a template picked in the composer after Use: not the suggestion's text
    interaction = _from_origin(conversation, origin)
    if interaction is None or interaction.status != Status.PENDING.value:
        return
    try:
        claim(interaction, sent_text=text, user=user)
    except Conflict:
        return
    audit.record(user, "ai.suggestion.send", "ai_interaction", interaction.interactionId, via="composer")


def composer_sent(conversation: str, origin: str, message_id: str) -> None:
    interaction = _from_origin(conversation, origin)
    if interaction is not None:
        record_sent(interaction, message_id)


def composer_refused(conversation: str, origin: str, reason: str) -> None:
    interaction = _from_origin(conversation, origin)
    if interaction is not None:
        record_blocked(interaction, reason)


def _from_origin(conversation: str, origin: str) -> AIInteraction | None:
    """The suggestion the composer's origin names, if it is one of this conversation's (an origin
    is posted by the browser: one naming another conversation's suggestion is ignored)."""
    interaction_id = queries.from_origin(origin or "")
    if interaction_id is None:
        return None
    try:
        interaction = queries.get(interaction_id)
    except NotFound:
        return None
    return interaction if interaction.conversation == conversation else None
