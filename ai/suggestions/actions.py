"""What a person does with a suggestion: send it as drafted, send it after editing it in the
composer, discard it, rate it. Every send goes through the one send path
(``messaging.outbound.send.send_message``, source ``ai_suggestion``), so consent, the allowlist,
the 24-hour window and DRY_RUN apply as they do to anything a person types; nothing here sends
without a person's request. docs/design/agent.md, "Suggestions in the inbox".

A send is claimed first: the interaction leaves ``pending`` (for ``used`` or ``edited``) in one
conditional update before the send path is asked, so two people never both send one suggestion,
and the pipeline's supersession (which moves only pending ones) cannot overtake a send under way.
The claim carries the id of the send that made it (``claimId``): only that send records its
outcome (sent, blocked, or unknown when the send path failed midway).
"""

from __future__ import annotations

import difflib
from typing import Any

from ulid import ULID

from ai.models import AIInteraction, Status
from ai.status_words import OUTCOME_UNKNOWN
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
    Status.USED: "was already sent",  # or its send's outcome is unknown: see ``_not_pending``
    Status.EDITED: "was already sent, edited",
    Status.DISCARDED: "was discarded",
    Status.SUPERSEDED: "was set aside: the conversation moved on",
    Status.BLOCKED: "was refused by the safety gate",
    Status.SKIPPED: "was never drafted",
    Status.FAILED: "could not be drafted",
}


def outcome_unknown(interaction: AIInteraction) -> bool:
    return (interaction.statusReason or "").startswith(OUTCOME_UNKNOWN) and not interaction.sentMessageId


def _not_pending(interaction: AIInteraction) -> Conflict:
    who = f" by {interaction.approvedBy}" if interaction.approvedBy else ""
    state = STATE_WORDS.get(Status(interaction.status), interaction.status)
    if outcome_unknown(interaction):
        state = "may have been sent (its send failed midway: look at the conversation)"
    return Conflict(f"This suggestion {state}{who}; there is nothing left to do with it.", field="status")


def sendable(interaction: AIInteraction) -> dict[str, Any] | None:
    """What the suggestion would send, in the shape ``send_message`` takes (``text``, or a
    ``template`` with its values), or None when it proposes nothing sendable (the window is closed
    and no approved template fits)."""
    if interaction.kind == "template":
        return _template_content(interaction.template)
    return {"text": interaction.response} if (interaction.response or "").strip() else None


def _template_content(template: Any) -> dict[str, Any] | None:
    """A stored template proposal in ``send_message``'s shape, or None when it is not one
    ({name, language, values: [str, ...]} or {..., parameters: {component: [str, ...]}}): the
    item is JSON anyone could have written, so its shape is checked, never assumed."""
    if not isinstance(template, dict) or not isinstance(template.get("name"), str) or not template["name"]:
        return None
    language = template.get("language")
    if language is not None and not isinstance(language, str):
        return None
    values = template.get("parameters", template.get("values")) or []
    parameters = values if isinstance(values, dict) else {"body": values}
    for listed in parameters.values():
        if not isinstance(listed, list) or not all(isinstance(value, str) for value in listed):
            return None
    return {"template": {"name": template["name"], "language": language, "parameters": parameters}}


def edit_of(draft: str, sent: str) -> tuple[str, float]:
    """The edit as a unified diff (draft -> sent) and how much changed: 0 as drafted, 1 rewritten."""
    diff = "\n".join(difflib.unified_diff(draft.splitlines(), sent.splitlines(), "draft", "sent", lineterm="", n=1))
    ratio = 1 - difflib.SequenceMatcher(None, draft, sent, autojunk=False).ratio()
    return diff, round(ratio, 3)


def claim(interaction: AIInteraction, *, sent_text: str | None, user: Any, claim_id: str) -> AIInteraction:
    """pending -> used (sent as drafted) or edited (``sent_text`` differs), before the send, by the
    send ``claim_id`` names. Conflict when it is no longer pending (someone else acted, or the
    conversation moved on)."""
    draft = interaction.response or ""
    actions = [
        AIInteraction.approvedBy.set(audit.actor_id(user)),
        AIInteraction.actedAt.set(now().isoformat()),
        AIInteraction.claimId.set(claim_id),
    ]
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


def _claimed_by(claim_id: str) -> Any:
    """The condition that the suggestion is still claimed, unsent, by the send ``claim_id`` names."""
    return (
        AIInteraction.status.is_in(Status.USED.value, Status.EDITED.value)
        & AIInteraction.sentMessageId.does_not_exist()
        & (AIInteraction.claimId == claim_id)
    )


def record_sent(interaction: AIInteraction, message_id: str, claim_id: str) -> bool:
    """The claimed suggestion became this outbound message. False when ``claim_id`` is not the
    claim's (another send's outcome is not this one's to record)."""
    return update_if(
        interaction,
        actions=[AIInteraction.sentMessageId.set(message_id), AIInteraction.statusReason.remove()],
        condition=_claimed_by(claim_id),
    )


def record_blocked(interaction: AIInteraction, reason: str, claim_id: str) -> bool:
    """The claimed suggestion's send was refused (the gate's sentence): ``blocked``, with why.
    Only for a refusal raised before the send path writes anything (see ``send_as_drafted``)."""
    return update_if(
        interaction,
        actions=[AIInteraction.status.set(Status.BLOCKED.value), AIInteraction.statusReason.set(reason)],
        condition=_claimed_by(claim_id),
    )


def record_unknown(interaction: AIInteraction, error: str, claim_id: str) -> bool:
    """The send failed in a way that may have come after its message was written: the claim is
    kept (so no one sends it again blindly) and says so, for a person to look at the conversation."""
    return update_if(
        interaction,
        actions=[AIInteraction.statusReason.set(f"{OUTCOME_UNKNOWN}: {error}"[:300])],
        condition=_claimed_by(claim_id),
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
    claim_id = str(ULID())
    claim(interaction, sent_text=None, user=user, claim_id=claim_id)
    try:
        message = send.send_message(request, user=user, source=SOURCE)
    except (send.Refused, FieldErrors, NotFound) as exc:
        # send_message raises these only before it writes the message (parse, the thread check,
        # the gate): certain that nothing went, so the suggestion is blocked with the reason.
        record_blocked(interaction, str(exc), claim_id)
        code = getattr(exc, "code", type(exc).__name__)
        audit.record(user, "ai.suggestion.blocked", "ai_interaction", interaction_id, code=code)
        raise
    except Exception as exc:
        # Anything else may come after the message was written and queued (the audit or the
        # broker failing), and send_message takes no idempotency key: releasing the claim could
        # let a second Send reach the customer twice. The claim stays, marked outcome unknown.
        record_unknown(interaction, f"{type(exc).__name__}: {exc}", claim_id)
        raise
    record_sent(interaction, message.messageId, claim_id)
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


def composer_check(conversation: str, origin: str, text: str) -> str | None:
    """Before a composer send of text Use put there: a warning when the suggestion was meanwhile
    sent (or discarded) by someone, so the same reply does not reach the customer twice unasked."""
    if not text:
        return None
    interaction = _from_origin(conversation, origin)
    if interaction is None:
        return None
    who = interaction.approvedBy or "A colleague"
    if interaction.status in (Status.USED.value, Status.EDITED.value):
        if outcome_unknown(interaction):
            return f"{who} tried to send this suggestion and it may have gone; check the conversation. Send anyway?"
        return f"{who} already sent this suggestion; send anyway?"
    if interaction.status == Status.DISCARDED.value:
        return f"{who} discarded this suggestion; send anyway?"
    return None


def composer_sending(conversation: str, origin: str, text: str, user: Any, attempt: str) -> None:
    """An operator is sending, from the composer, text that began as this suggestion: claim it as
    used (unchanged) or edited (with the diff), for this send (``attempt``). One no longer
    pending is left as it is: the operator's own message goes anyway, it is theirs (they were
    asked first: ``composer_check``)."""
    if not text or not attempt:
        return  # a template picked in the composer after Use: not the suggestion's text
    interaction = _from_origin(conversation, origin)
    if interaction is None or interaction.status != Status.PENDING.value:
        return
    try:
        claim(interaction, sent_text=text, user=user, claim_id=attempt)
    except Conflict:
        return


def composer_sent(conversation: str, origin: str, message_id: str, user: Any, attempt: str) -> None:
    interaction = _from_origin(conversation, origin)
    if interaction is not None and attempt and record_sent(interaction, message_id, attempt):
        audit.record(
            user,
            "ai.suggestion.send",
            "ai_interaction",
            interaction.interactionId,
            messageId=message_id,
            via="composer",
        )


def composer_refused(conversation: str, origin: str, reason: str, code: str, user: Any, attempt: str) -> None:
    interaction = _from_origin(conversation, origin)
    if interaction is not None and attempt and record_blocked(interaction, reason, attempt):
        audit.record(
            user, "ai.suggestion.blocked", "ai_interaction", interaction.interactionId, code=code, via="composer"
        )


def composer_failed(conversation: str, origin: str, reason: str, attempt: str) -> None:
    """The composer's send raised midway: the message may exist, so the claim is kept, marked
    outcome unknown (as ``send_as_drafted`` does)."""
    interaction = _from_origin(conversation, origin)
    if interaction is not None and attempt:
        record_unknown(interaction, reason, attempt)


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
