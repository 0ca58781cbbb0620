"""What /api/ai/interactions answers: the log's entries and the figures per day."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from ai import pricing
from ai.models import AIInteraction, object_or_none, objects
from ai.review.queries import DayFigures


class InteractionOut(Schema):
    interactionId: str
    messageId: str
    conversation: str
    businessNumber: str | None = None
    createdAt: str
    day: str
    status: str
    statusReason: str | None = None
    query: str | None = None
    sources: list[dict[str, Any]] = Field(default_factory=list)
    kind: str
    response: str | None = None
    template: dict[str, Any] | None = None
    flags: list[dict[str, Any]] = Field(default_factory=list)
    intent: str | None = None
    generator: str | None = None
    modelId: str | None = None
    agentId: str | None = None
    promptVersion: str | None = None
    personaId: str | None = None
    personaVersion: int | None = None
    latencyMs: int | None = None
    usage: dict[str, Any] | None = None
    estimatedCost: float
    approvedBy: str | None = None
    actedAt: str | None = None
    sentMessageId: str | None = None
    sentText: str | None = None
    edit: str | None = None
    editRatio: float | None = None
    rating: str | None = None
    ratingReason: str | None = None
    ratingNote: str | None = None

    @classmethod
    def of(cls, item: AIInteraction) -> InteractionOut:
        values = item.attribute_values
        fields: dict[str, Any] = {name: values.get(name) for name in cls.model_fields if name in values}
        fields["sources"] = objects(item.sources)
        fields["flags"] = objects(item.flags)
        fields["template"] = object_or_none(item.template)
        fields["usage"] = object_or_none(item.usage)
        fields["estimatedCost"] = float(pricing.cost_of_usage(fields["usage"]))
        return cls(**fields)


class InteractionPage(Schema):
    items: list[InteractionOut]
    nextCursor: str | None = None


class DayFiguresOut(Schema):
    day: str
    suggestions: int
    usedAsIs: int
    usedEdited: int
    meanEditRatio: float | None
    discarded: int
    superseded: int
    blocked: int
    failed: int
    pending: int
    rated: int
    meanRating: float | None = Field(description="the share of rated suggestions rated helpful (0..1)")
    latencyP50Ms: int | None
    latencyP95Ms: int | None
    inputTokens: int
    outputTokens: int
    estimatedCost: float = Field(description="US dollars at Nova Pro's on-demand price (ai/pricing.py)")
    capped: bool

    @classmethod
    def of(cls, f: DayFigures) -> DayFiguresOut:
        return cls(
            day=f.day,
            suggestions=f.suggestions,
            usedAsIs=f.used,
            usedEdited=f.edited,
            meanEditRatio=f.mean_edit_ratio,
            discarded=f.discarded,
            superseded=f.superseded,
            blocked=f.blocked,
            failed=f.failed,
            pending=f.pending,
            rated=f.rated,
            meanRating=f.mean_rating,
            latencyP50Ms=f.latency_p50_ms,
            latencyP95Ms=f.latency_p95_ms,
            inputTokens=f.input_tokens,
            outputTokens=f.output_tokens,
            estimatedCost=float(f.estimated_cost),
            capped=f.capped,
        )


class FiguresOut(Schema):
    days: list[DayFiguresOut]
    priceSource: str
