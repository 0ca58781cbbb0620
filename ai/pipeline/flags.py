"""What a person must see before approving a draft: each flag is {code, detail}. A draft longer
than the channel allows; a link, phone number or amount that appears in no source (the model may
have invented it); an action the agent asked us to run (returnControl) or words saying it acted.
Nothing here executes anything: a flag only informs. docs/design/agent.md, "The pipeline".
"""

from __future__ import annotations

import re
from typing import Any

WHATSAPP_TEXT_LIMIT = 4096  # characters WhatsApp takes in one text message

URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w.])\+?\d[\d ()-]{7,}\d(?!\w)")
AMOUNT = re.compile(
    r"(?:(?:₹|rs\.?|inr|\$|usd|€|eur|£)\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:rupees|rs\b|inr|dollars|usd|eur|%))",
    re.IGNORECASE,
)
# A draft that speaks as if it had already acted, or was about to, on the business's behalf.
ACTING = re.compile(
    r"\b(?:i am|i'm|we are|we're|i have|i've|we have|we've)\s+(?:now\s+)?"
    r"(?:sending|sent|forwarding|forwarded|cancell?ing|cancell?ed|refunding|refunded|scheduling|scheduled|"
    r"deleting|deleted|charging|charged|transferring|transferred|emailing|emailed|messaging|messaged)\b"
    r"|\bto (?:everyone|all (?:customers|contacts|subscribers))\b",
    re.IGNORECASE,
)


def flag(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


def _normal(value: str) -> str:
    return re.sub(r"[\s,()-]", "", value).lower().rstrip("./")


def _unsupported(pattern: re.Pattern[str], draft: str, sources: str) -> list[str]:
    known = {_normal(m.group()) for m in pattern.finditer(sources)}
    said = [m.group().strip() for m in pattern.finditer(draft)]
    return list(dict.fromkeys(s for s in said if _normal(s) not in known and _normal(s) not in sources.lower()))


def check(
    draft: str, *, source_texts: list[str], customer_text: str = "", return_control: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """The flags of ``draft`` given the passages it may draw on. The customer's own words count as
    a source: repeating the order number or amount they wrote is not an invention."""
    sources = "\n".join([*source_texts, customer_text])
    flags: list[dict[str, str]] = []
    if len(draft) > WHATSAPP_TEXT_LIMIT:
        flags.append(
            flag("too_long", f"{len(draft):,} characters; a WhatsApp text takes at most {WHATSAPP_TEXT_LIMIT:,}.")
        )
    for code, pattern, what in (
        ("unsupported_url", URL, "link"),
        ("unsupported_phone", PHONE, "phone number"),
        ("unsupported_amount", AMOUNT, "amount"),
    ):
        if found := _unsupported(pattern, draft, sources):
            flags.append(flag(code, f"The {what} {', '.join(found)} appears in no source."))
    if return_control:
        action = " / ".join(_action_names(return_control))
        flags.append(
            flag("action_requested", f"The agent asked to run an action ({action or 'unnamed'}); it was not run.")
        )
    if match := ACTING.search(draft):
        flags.append(flag("acting_language", f"The draft says it acts on its own: \u201c{match.group()}\u201d."))
    return flags


def _action_names(value: Any) -> list[str]:
    """The action group and function (or API path) named anywhere in returnControl's invocation
    inputs, whatever their nesting (function or API invocations)."""
    names: list[str] = []
    if isinstance(value, dict):
        for key in ("actionGroup", "function", "apiPath"):
            if isinstance(value.get(key), str):
                names.append(value[key])
        for inner in value.values():
            if isinstance(inner, (dict, list)):
                names += _action_names(inner)
    elif isinstance(value, list):
        for inner in value:
            names += _action_names(inner)
    return list(dict.fromkeys(names))
