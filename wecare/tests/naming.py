"""Names for test data that no other test (or earlier run against the same tables) has used."""

from __future__ import annotations

import random
import string


def unique_name(name: str) -> str:
    """``name`` and ten random letters. Letters only: a suffix of digits would also be searched as
    part of a phone number."""
    return f"{name} {''.join(random.choices(string.ascii_lowercase, k=10))}"
