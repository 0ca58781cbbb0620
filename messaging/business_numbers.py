"""Business numbers as people name them ("Sales · +91 98765 00001") instead of their internal ids.

PLACEHOLDER written by the lead so the inbox can code against ``label``; engineer D's branch
replaces this module (admin-set names, stored and audited). Do not build on anything else here.
"""

from __future__ import annotations


def label(number: str) -> str:
    """How a person reads a business number: its name and phone when known, else its phone, else a
    short readable form of its id."""
    if number.startswith("phone-number-id-"):
        return "WhatsApp number …" + number.rsplit("-", 1)[-1][-6:]
    return number
