"""Consent keywords: is a customer's whole message an opt-out word (STOP) or an opt-in word
(START) on its channel, or a tap on a template's opt-out button? The words are the admin's rules
(messaging/autoreply/keyword_rules.py: English and Hindi by default). docs/design/inbound.md,
"Consent keywords", says what follows on each channel.
"""

from __future__ import annotations

from enum import StrEnum

from messaging.autoreply import keyword_rules
from messaging.autoreply.keyword_rules import normalise

__all__ = ["Intent", "classify", "classify_button", "normalise"]


class Intent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def classify(channel: str, text: str | None) -> Intent | None:
    """The intent of a message that is exactly a keyword of ``channel`` (after normalising); None
    otherwise: a word inside a sentence ("please don't stop") is not a keyword. Opt-out is read
    first, though the admin page refuses a word that is both."""
    if not text:
        return None
    rules = keyword_rules.load(channel)
    if rules.is_opt_out(text):
        return Intent.OPT_OUT
    if rules.is_opt_in(text):
        return Intent.OPT_IN
    return None


def classify_button(channel: str, text: str | None, payload: str | None) -> Intent | None:
    """The intent of a tapped template quick-reply button (its label and its payload): an opt-out
    button or word withdraws consent, an opt-in word gives it."""
    if not (text or payload):
        return None
    rules = keyword_rules.load(channel)
    if rules.is_opt_out_button(text, payload):
        return Intent.OPT_OUT
    if rules.is_opt_in_button(text, payload):
        return Intent.OPT_IN
    return None
