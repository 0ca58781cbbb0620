"""The consent keyword rules of a channel (whatsapp, sms): the words with which a customer withdraws
or gives consent, the template buttons that withdraw it, and the confirmations. Stored as one
``CONSENT_KEYWORDS#{channel}`` item an admin edits (audited); a channel never saved uses the
defaults below. How a message is matched, and what follows: docs/consent-keywords.md and
docs/design/inbound.md ("A customer's STOP").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from messaging.whatsapp_table import WaConsentKeywords
from wecare import audit
from wecare.dynamo import now

CHANNELS = ("whatsapp", "sms")

# AWS End User Messaging SMS answers these opt-out keywords itself where the law requires it (US,
# Canada): ARRET, CANCEL, END, OPT-OUT, OPTOUT, QUIT, REMOVE, STOP, TD, UNSUBSCRIBE; and a US
# toll-free number re-subscribes with UNSTOP or START. Source: AWS End User Messaging SMS User
# Guide, "Required opt-out keywords",
# https://docs.aws.amazon.com/sms-voice/latest/userguide/keywords-required.html and
# https://docs.aws.amazon.com/sms-voice/latest/userguide/opt-out-list-keywords.html (read 2026-11-30).
AWS_OPT_OUT = ["STOP", "ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "TD", "UNSUBSCRIBE"]
AWS_OPT_IN = ["START", "UNSTOP"]
# Hindi, in Devanagari and as customers type it in Latin letters.
HINDI_OPT_OUT = ["बंद", "बंद करें", "बंद करो", "रोकें", "रोको", "band", "band karo", "band karen", "band kare"]
HINDI_OPT_IN = ["शुरू", "शुरू करें", "शुरू करो", "shuru", "shuru karo", "shuru karen"]
# "YES" is left out on purpose: it answers any question, and a withdrawn consent must not come
# back because a customer said yes to something else. An admin may add it.
DEFAULT_OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT OUT", *AWS_OPT_OUT, *HINDI_OPT_OUT]
DEFAULT_OPT_IN = [*AWS_OPT_IN, "SUBSCRIBE", *HINDI_OPT_IN]
# The label WhatsApp Manager gives a marketing template's opt-out quick-reply button.
DEFAULT_OPT_OUT_BUTTONS = ["Stop promotions"]
DEFAULT_CONFIRMATIONS = {
    "whatsapp": (
        "You will no longer receive messages from us on WhatsApp. Reply START to subscribe again.",
        "You are subscribed again to our WhatsApp messages. Reply STOP to unsubscribe.",
    ),
    "sms": (
        "You are unsubscribed and will receive no more messages. Reply START to subscribe again.",
        "You are subscribed again. Reply STOP to unsubscribe.",
    ),
}
MAX_WORD = 30  # AWS's limit for an SMS keyword, a fair one for any word a customer types
MAX_WORDS = 50
_DROPPED_CATEGORIES = ("P", "S", "C")  # punctuation, symbols (emoji), controls and zero-width format marks


def normalise(text: str) -> str:
    """What a message is compared as: NFKC, case-folded, punctuation and symbols (emoji) dropped,
    whitespace collapsed: "Stop!", " STOP " and "stop 🛑" are one word, "OPT-OUT" is "optout".
    Marks (Devanagari vowel signs) stay: they are part of the word."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch for ch in folded if ch.isspace() or unicodedata.category(ch)[0] not in _DROPPED_CATEGORIES)
    return " ".join(kept.split())


def _dedupe(words: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(normalise(word), word)
    return [w for key, w in seen.items() if key]


@dataclass(frozen=True)
class Rules:
    channel: str
    opt_out_words: list[str]
    opt_in_words: list[str]
    opt_out_buttons: list[str] = field(default_factory=list)
    opt_out_confirmation: str = ""
    opt_in_confirmation: str = ""
    stored: bool = False  # False: the defaults, never saved by an admin

    def _matches(self, text: str | None, words: list[str]) -> bool:
        said = normalise(text or "")
        return bool(said) and said in {normalise(w) for w in words}

    def is_opt_out(self, text: str | None) -> bool:
        """The whole message is an opt-out word: "Stop!" is, "please don't stop" is not."""
        return self._matches(text, self.opt_out_words)

    def is_opt_in(self, text: str | None) -> bool:
        return self._matches(text, self.opt_in_words)

    def is_opt_out_button(self, text: str | None, payload: str | None) -> bool:
        """A template's quick-reply button that withdraws consent: its label or payload is one of
        the opt-out buttons or words."""
        words = [*self.opt_out_buttons, *self.opt_out_words]
        return self._matches(text, words) or self._matches(payload, words)

    def is_opt_in_button(self, text: str | None, payload: str | None) -> bool:
        return self._matches(text, self.opt_in_words) or self._matches(payload, self.opt_in_words)


def defaults(channel: str) -> Rules:
    opt_out_confirmation, opt_in_confirmation = DEFAULT_CONFIRMATIONS[_check(channel)]
    return Rules(
        channel=channel,
        opt_out_words=_dedupe(DEFAULT_OPT_OUT),
        opt_in_words=_dedupe(DEFAULT_OPT_IN),
        opt_out_buttons=list(DEFAULT_OPT_OUT_BUTTONS) if channel == "whatsapp" else [],
        opt_out_confirmation=opt_out_confirmation,
        opt_in_confirmation=opt_in_confirmation,
    )


def _check(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"no consent keywords for channel {channel!r}")
    return channel


def key(channel: str) -> str:
    return f"CONSENT_KEYWORDS#{_check(channel)}"


def load(channel: str) -> Rules:
    """The channel's rules as saved, else the defaults."""
    try:
        item = WaConsentKeywords.get(key(channel), consistent_read=True)
    except WaConsentKeywords.DoesNotExist:
        return defaults(channel)
    if not isinstance(item, WaConsentKeywords):
        return defaults(channel)
    return Rules(
        channel=channel,
        opt_out_words=list(item.optOutWords or []),
        opt_in_words=list(item.optInWords or []),
        opt_out_buttons=list(item.optOutButtons or []),
        opt_out_confirmation=item.optOutConfirmation or "",
        opt_in_confirmation=item.optInConfirmation or "",
        stored=True,
    )


def save(channel: str, values: dict[str, Any], *, user: Any) -> Rules:
    """Values are already validated (messaging/autoreply/forms.py, ConsentKeywordsForm). Audited
    with what was there before, so the log shows each change whole."""
    before = load(channel)
    item = WaConsentKeywords(
        pk=key(channel),
        channel=channel,
        optOutWords=values["optOutWords"],
        optInWords=values["optInWords"],
        optOutButtons=values.get("optOutButtons") or None,
        optOutConfirmation=values["optOutConfirmation"] or None,
        optInConfirmation=values["optInConfirmation"] or None,
        updatedBy=audit.actor_id(user),
        receivedAt=now().isoformat(),  # when it last changed; also lists configs on the itemType index
    )
    item.save()
    audit.record(
        user,
        "consent.keywords.set",
        "consent_keywords",
        item.pk,
        channel=channel,
        **values,
        before={
            "optOutWords": before.opt_out_words,
            "optInWords": before.opt_in_words,
            "optOutButtons": before.opt_out_buttons,
            "optOutConfirmation": before.opt_out_confirmation,
            "optInConfirmation": before.opt_in_confirmation,
            "stored": before.stored,
        },
    )
    return load(channel)
