"""JSON from outside, parsed with a bound on nesting.

``json.loads`` recurses once per level of nesting, so ``[`` × 100000 raises RecursionError (a
500 wherever only ValueError was expected), and a value a few hundred levels deep parses but then
breaks whatever walks it next (serializers, templates, DynamoDB's own limit of 32 nested levels).
No JSON this platform accepts is deeper than ``MAX_DEPTH``; deeper is refused as ``TooDeep``, a
ValueError, so callers that refuse malformed JSON refuse this too, with its own reason.
"""

from __future__ import annotations

import json
from typing import Any

# DynamoDB's limit on nested attributes; nothing we store or read needs more.
MAX_DEPTH = 32


class TooDeep(ValueError):
    def __init__(self, max_depth: int):
        super().__init__(f"JSON nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises TooDeep (a ValueError) for anything nested deeper than
    ``max_depth`` and ValueError for anything that is not JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit, far deeper than max_depth.
        raise TooDeep(max_depth) from None
    if depth(value) > max_depth:
        raise TooDeep(max_depth)
    return value


def depth(value: Any) -> int:
    """Levels of nesting (a scalar is 0, ``[]`` is 1), walked without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in children)
    return deepest
