"""What never leaves for Bedrock: card numbers, one-time codes and email addresses in a customer's
text are replaced by a marker before any prompt is built, and the interaction stores the masked
text as its query. docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 13 to 19 digits, optionally grouped by spaces or dashes, as people type a card number.
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# A code of 4 to 8 digits is masked when the message speaks of a code: a bare "order 10423" is
# the customer's order number, which the draft needs.
CODE_WORDS = re.compile(r"\b(otp|one[- ]?time|code|pin|passcode|password|verification|verify)\b", re.IGNORECASE)
CODE = re.compile(r"(?<![\d-])\d{4,8}(?![\d-])")

MASKS = {"email": "[email]", "card": "[card number]", "code": "[code]"}


def _luhn(digits: str) -> bool:
    """Card numbers carry a Luhn check digit; a long order or phone number rarely passes it."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return MASKS["card"] if _luhn(digits) else match.group()


def mask(text: str) -> str:
    """``text`` with every email address, card number and (where it speaks of one) code masked."""
    masked = EMAIL.sub(MASKS["email"], text)
    masked = CARD.sub(_card, masked)
    if CODE_WORDS.search(masked):
        masked = CODE.sub(MASKS["code"], masked)
    return masked
