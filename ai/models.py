"""AI tables: AIInteractions (a suggested reply, its sources and its review)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute

from wecare.dynamo import DynamoModel, meta, register, string_index

ByMessageIndex = string_index("messageId-index", "messageId")


@register
class AIInteraction(DynamoModel):
    Meta = meta("AIInteractions")
    interactionId = UnicodeAttribute(hash_key=True)
    messageId = UnicodeAttribute()
    # The stored attribute is named "query", which hides PynamoDB's Model.query() on this model.
    query = UnicodeAttribute()  # type: ignore[assignment]
    response = UnicodeAttribute(null=True)
    sources = JSONAttribute(null=True)
    approved = BooleanAttribute(null=True)
    approvedBy = UnicodeAttribute(null=True)
    feedback = UnicodeAttribute(null=True)
    timestamp = UTCDateTimeAttribute()

    by_message = ByMessageIndex()
