"""Consent keywords: is a customer's whole message an opt-out word (STOP) or an opt-in word
(START) on its channel? docs/design/inbound.md, "Consent keywords".

A first version with fixed English words; the rules an admin configures per channel replace them.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


_DEFAULT_WORDS: dict[Intent, frozenset[str]] = {
    Intent.OPT_OUT: frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}),
    Intent.OPT_IN: frozenset({"start", "unstop"}),
}


def normalise(text: str) -> str:
    """Compatibility form, case-folded, punctuation dropped, whitespace collapsed: "Stop!" and
    " STOP " are the same word."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch for ch in folded if not unicodedata.category(ch).startswith("P"))
    return re.sub(r"\s+", " ", kept).strip()


def classify(channel: str, text: str | None) -> Intent | None:
    """The intent of a message that is exactly a keyword of ``channel``; None otherwise (a word
    inside a sentence is not a keyword)."""
    if not text:
        return None
    word = normalise(text)
    return next((intent for intent, words in _DEFAULT_WORDS.items() if word in words), None)
