"""Queries of AIInteraction's indexes. The model's stored attribute ``query`` (the customer's
masked text) hides PynamoDB's ``Model.query``, and an index's own ``query()`` calls that name, so
``AIInteraction.by_day.query(...)`` fails; this calls PynamoDB's classmethod itself, with the same
arguments an index passes. Every read of the suggestions and the Agent page goes through here.
"""

from __future__ import annotations

from typing import Any

from pynamodb.indexes import Index
from pynamodb.models import Model, ResultIterator

from ai.models import AIInteraction


def query(index: Index, hash_key: str, **kwargs: Any) -> ResultIterator[AIInteraction]:
    """``index.query(hash_key, **kwargs)`` on AIInteraction (see the module's docstring)."""
    run = Model.query.__func__  # type: ignore[attr-defined]  # the classmethod the attribute hides
    return run(AIInteraction, hash_key, index_name=index.Meta.index_name, **kwargs)
