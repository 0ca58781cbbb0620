"""The AI's tables: a suggested reply and its review (AIInteractions), the agent's switch and
choices (AgentSettings), personas with every version kept (AIPersonas), and lead qualification
per contact (Leads). What the model read is also summarised in the WhatsApp table's
``BEDROCK#{conversationId}#{messageId}`` item (messaging.whatsapp_table.WaBedrockResult), as the
single-table contract fixes it. docs/design/agent.md says why each table looks as it does.
"""

from __future__ import annotations

from enum import StrEnum

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)

from wecare.dynamo import DynamoModel, meta, register, string_index


class Status(StrEnum):
    """What became of a suggestion. Only ``pending`` can be acted on; every other is final."""

    GENERATING = "generating"  # claimed by the pipeline, the draft not written yet
    PENDING = "pending"  # a draft waits for a person
    USED = "used"  # sent as drafted
    EDITED = "edited"  # sent after a person changed it
    DISCARDED = "discarded"  # a person threw it away
    SUPERSEDED = "superseded"  # the customer wrote again or a person replied first
    BLOCKED = "blocked"  # a person approved it and the gate refused the send (statusReason says why)
    SKIPPED = "skipped"  # the pipeline decided not to draft (statusReason: automation off, consent withdrawn...)
    FAILED = "failed"  # Bedrock kept failing; the task is parked on the DLQ, the inbound message untouched


FINAL = frozenset(Status) - {Status.GENERATING, Status.PENDING}

ByMessageIndex = string_index("messageId-index", "messageId")
ByConversationIndex = string_index("conversation-createdAt-index", "conversation", "createdAt")
ByDayIndex = string_index("day-createdAt-index", "day", "createdAt")


@register
class AIInteraction(DynamoModel):
    """One suggested reply to one inbound message, from the query to what the operator did with it.

    ``interactionId`` is derived from the inbound message id, so the pipeline's claim (a
    conditional put) makes it idempotent on the message: a second delivery finds the item."""

    Meta = meta("AIInteractions")
    interactionId = UnicodeAttribute(hash_key=True)
    messageId = UnicodeAttribute()  # the inbound message (the WhatsApp message id)
    conversation = UnicodeAttribute()  # the inbox key, whatsapp~<suffix>~<customer>
    channel = UnicodeAttribute(default="whatsapp")
    contactId = UnicodeAttribute(null=True)
    businessNumber = UnicodeAttribute(null=True)  # the phone number id the customer wrote to
    createdAt = UnicodeAttribute()  # ISO time the pipeline claimed the message
    messageAt = UnicodeAttribute(null=True)  # when the inbound message was received: newer ones supersede
    attemptAt = UnicodeAttribute(null=True)  # when the pipeline's latest attempt began (a stale claim is taken over)
    day = UnicodeAttribute()  # YYYY-MM-DD of createdAt: the log and the daily figures read by day
    status = UnicodeAttribute(default=Status.GENERATING.value)
    statusReason = UnicodeAttribute(null=True)  # why skipped, blocked, failed or superseded
    # What went to Bedrock and what came back. ``query`` is the customer's text after masking
    # (card numbers, OTPs, email addresses never leave). The stored attribute is named "query",
    # which hides PynamoDB's Model.query() on this model: read it through its indexes.
    query = UnicodeAttribute(null=True)  # type: ignore[assignment]
    sources = JSONAttribute(null=True)  # [{title, uri, score, excerpt}], best first
    response = UnicodeAttribute(null=True)  # the draft as the model wrote it
    kind = UnicodeAttribute(default="text")  # "text" | "template" (the window was closed)
    template = JSONAttribute(null=True)  # {name, language, values: [...]} when kind is "template"
    flags = JSONAttribute(null=True)  # [{code, detail}]: too long, a URL/phone/amount in no source, an action
    intent = UnicodeAttribute(null=True)
    entities = JSONAttribute(null=True)
    summary = UnicodeAttribute(null=True)
    leadProposal = JSONAttribute(null=True)  # {status?, score?, interest?, urgency?, note?} for the operator
    leadProposalState = UnicodeAttribute(null=True)  # None | "accepted" | "dismissed"
    leadProposalBy = UnicodeAttribute(null=True)  # who accepted or dismissed it
    leadProposalAt = UnicodeAttribute(null=True)
    generator = UnicodeAttribute(null=True)  # "agent" | "converse"
    modelId = UnicodeAttribute(null=True)
    agentId = UnicodeAttribute(null=True)
    agentAliasId = UnicodeAttribute(null=True)
    knowledgeBaseId = UnicodeAttribute(null=True)
    promptVersion = UnicodeAttribute(null=True)
    personaId = UnicodeAttribute(null=True)
    personaVersion = NumberAttribute(null=True)
    latencyMs = NumberAttribute(null=True)  # inbound message received -> draft stored
    usage = JSONAttribute(null=True)  # {inputTokens, outputTokens, calls: {Retrieve: n, ...}}
    attempts = NumberAttribute(default=0)
    # The review.
    approvedBy = UnicodeAttribute(null=True)  # who used, sent or discarded it
    actedAt = UnicodeAttribute(null=True)
    sentMessageId = UnicodeAttribute(null=True)  # the outbound message it became
    claimId = UnicodeAttribute(null=True)  # the send that claimed it: only that send records its outcome
    sentText = UnicodeAttribute(null=True)  # what was sent, when a person edited the draft
    edit = UnicodeAttribute(null=True)  # unified diff, draft -> sent
    editRatio = NumberAttribute(null=True)  # 0 (as drafted) .. 1 (rewritten)
    rating = UnicodeAttribute(null=True)  # "helpful" | "not_helpful"
    ratingReason = UnicodeAttribute(null=True)  # incorrect | incomplete | tone | outdated | other
    ratingNote = UnicodeAttribute(null=True)
    ratedBy = UnicodeAttribute(null=True)
    expiresAt = TTLAttribute(null=True)  # AI_RETENTION_DAYS after createdAt

    by_message = ByMessageIndex()
    by_conversation = ByConversationIndex()
    by_day = ByDayIndex()


@register
class AgentSettings(DynamoModel):
    """The admin's choices, one item (``name`` = "agent"): the automation switch (off until an
    admin turns it on) and the persona each business number answers with. ``version`` makes every
    change a conditional update, so two admins never overwrite each other unseen."""

    Meta = meta("AgentSettings")
    name = UnicodeAttribute(hash_key=True)
    automation = BooleanAttribute(default=False)
    personaByNumber: MapAttribute[str, str] = MapAttribute(null=True)  # {phoneNumberId: personaId}
    version = NumberAttribute(default=0)
    updatedAt = UnicodeAttribute(null=True)
    updatedBy = UnicodeAttribute(null=True)


ByPersonaStatusIndex = string_index("current-updatedAt-index", "current", "updatedAt")


@register
class Persona(DynamoModel):
    """One version of a persona (seed 003's configuration). Versions are never changed: an edit
    writes version n+1, and an interaction names the version it was drafted with. The newest
    version carries ``current`` = "yes" (a sparse index lists the personas)."""

    Meta = meta("AIPersonas")
    personaId = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    current = UnicodeAttribute(null=True)  # "yes" on the newest version only
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | draft | archived
    systemPrompt = UnicodeAttribute()
    tone = UnicodeAttribute(null=True)
    style = UnicodeAttribute(null=True)
    responseGuidelines = JSONAttribute(null=True)  # [str]
    intents = JSONAttribute(null=True)  # [{id, name, triggers: [str]}]
    goals = JSONAttribute(null=True)  # [{id, name, type, priority}]
    companyInfo = JSONAttribute(null=True)  # {name, industry, description, address, phone, hours}
    updatedAt = UnicodeAttribute()
    updatedBy = UnicodeAttribute()

    by_current = ByPersonaStatusIndex()


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"
    CUSTOMER = "customer"


ByLeadStatusIndex = string_index("status-updatedAt-index", "status", "updatedAt")


@register
class Lead(DynamoModel):
    """A contact's qualification as a lead (seed 003's ``qualification``), one item per contact."""

    Meta = meta("Leads")
    contactId = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(default=LeadStatus.NEW.value)
    score = NumberAttribute(null=True)  # 0..100
    interest = NumberAttribute(null=True)  # 0..1
    urgency = NumberAttribute(null=True)  # 0..1
    source = UnicodeAttribute(null=True)  # where the lead came from: whatsapp, import, campaign...
    campaign = UnicodeAttribute(null=True)
    notes = JSONAttribute(null=True)  # [{at, by, text}]
    version = NumberAttribute(default=0)
    createdAt = UnicodeAttribute()
    updatedAt = UnicodeAttribute()
    updatedBy = UnicodeAttribute()

    by_status = ByLeadStatusIndex()


def object_or_none(value: object) -> dict | None:
    """A JSON attribute read for display or the API: an object, else nothing (a malformed record
    must not make a page or the log fail)."""
    return value if isinstance(value, dict) else None


def objects(value: object) -> list[dict]:
    """A JSON attribute that should be a list of objects, keeping only the objects."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
