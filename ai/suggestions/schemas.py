"""What /api/ai/suggestions takes and answers."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from ai.models import AIInteraction, object_or_none, objects


class SuggestionOut(Schema):
    interactionId: str
    conversation: str
    messageId: str
    status: str
    statusReason: str | None = None
    kind: str
    response: str | None = None
    template: dict[str, Any] | None = None
    sources: list[dict[str, Any]] = Field(default_factory=list)
    intent: str | None = None
    flags: list[dict[str, Any]] = Field(default_factory=list)
    createdAt: str
    approvedBy: str | None = None
    sentMessageId: str | None = None
    sentText: str | None = None
    editRatio: float | None = None
    rating: str | None = None
    ratingReason: str | None = None
    ratingNote: str | None = None

    @classmethod
    def of(cls, item: AIInteraction) -> SuggestionOut:
        values = item.attribute_values
        fields: dict[str, Any] = {name: values.get(name) for name in cls.model_fields if name in values}
        fields["sources"] = objects(item.sources)
        fields["flags"] = objects(item.flags)
        fields["template"] = object_or_none(item.template)
        return cls(**fields)


class SuggestionList(Schema):
    items: list[SuggestionOut]


class RateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    rating: Literal["helpful", "not_helpful"]
    reason: Literal["incorrect", "incomplete", "tone", "outdated", "other"] | None = None
    note: str | None = Field(None, max_length=500)
