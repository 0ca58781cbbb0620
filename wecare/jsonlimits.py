"""JSON from outside, parsed with a bound on nesting.

``json.loads`` recurses once per level of nesting, so ``[`` × 100000 raises RecursionError (a
500 wherever only ValueError was expected), and a value a few hundred levels deep parses but then
breaks whatever walks it next (serializers, templates, DynamoDB's own limit of 32 nested levels).
No JSON this platform accepts is deeper than ``MAX_DEPTH``; deeper is refused as ``TooDeep``, a
ValueError, so callers that refuse malformed JSON refuse this too, with its own reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

# DynamoDB's limit on nested attributes; nothing we store or read needs more.
MAX_DEPTH = 32

# What decides nesting: a whole string (escapes included, so \" does not end it; an unclosed one
# runs to the end) or a bracket outside any string.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPENING = frozenset("[{")


class TooDeep(ValueError):
    def __init__(self, max_depth: int):
        super().__init__(f"JSON nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises TooDeep (a ValueError) for anything nested deeper than
    ``max_depth``, closed or not, and ValueError for anything else that is not JSON."""
    if isinstance(text, bytes | bytearray):
        # As json.loads decodes bytes; a UnicodeDecodeError is a ValueError too.
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    if nesting_exceeds(text, max_depth):
        # Checked on the text, before parsing: the parser recurses per level (``[`` x 100000 is a
        # RecursionError), and a document left open 33 levels deep must be refused as too deep,
        # not as merely malformed.
        raise TooDeep(max_depth)
    return json.loads(text)


def nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings open more than ``max_depth`` levels at some point. Stray
    closing brackets are left for the parser to refuse."""
    level = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in _OPENING:
            level += 1
            if level > max_depth:
                return True
        elif token in "]}":
            level = max(level - 1, 0)
    return False
