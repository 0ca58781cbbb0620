"""What a composer may offer before anyone types: whether a send on this channel and kind would be
allowed, and if not, why in plain words and what fixes it. The contact page's composer and the
inbox's ask it; the gate stays the one decider at send time (``send.send_message`` asks it again),
this only asks it early. docs/design/composer.md says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from contacts.models import Contact
from messaging.channels import RULES, Channel, default_sender
from messaging.outbound import gate, tier
from messaging.outbound.gate import Reason
from wecare.dynamo import now

# What a person can send on each channel while the gate allows it; WhatsApp outside the
# customer's 24-hour window takes only an approved template.
KINDS = {Channel.WHATSAPP: ("text", "template", "media"), Channel.SMS: ("text",), Channel.EMAIL: ("text",)}
WINDOW_CLOSED_KINDS = ("template",)
# Refusals the person at the composer can fix from the contact's page, and the words of the fix.
CONSENT_FIXES = (Reason.CONSENT_NEVER_GIVEN, Reason.CONSENT_WITHDRAWN)
WINDOW_CLOSED_NOTE = (
    "{Name} has not written on WhatsApp in the last 24 hours, so WhatsApp takes only an approved template."
)
ADDRESS_FIXES = {"phone": "Add a phone number", "email": "Add an email address"}


@dataclass(frozen=True)
class ComposeCheck:
    allowed: bool
    sentence: str
    fix_label: str | None = None
    fix_url: str | None = None
    kinds_allowed: tuple[str, ...] = ("text", "template")
    # The gate's code, for the API and for tests; pages show ``sentence``, never this.
    code: str | None = None
    # Why fewer kinds are offered (WhatsApp outside the window), in one sentence; else "".
    note: str = ""

    @property
    def channel_closed(self) -> bool:
        """No kind of message can go on this channel now: a composer disables the channel."""
        return not self.allowed and self.code not in (Reason.TEMPLATE_REQUIRED, None)

    @property
    def records_consent(self) -> bool:
        """The fix is recording the customer's consent: the contact page's composer draws the form
        in place; elsewhere ``fix_url`` links to it."""
        return self.code in CONSENT_FIXES


def check(contact: Contact | None, channel: str, kind: str, sender: str | None) -> ComposeCheck:
    """The gate's answer for a message of ``kind`` ("text", "template", "media") to ``contact`` on
    ``channel`` from ``sender`` (the channel's default when None), without writing anything."""
    chosen = Channel(channel)
    at = now()
    window_open = bool(contact and contact.whatsapp_window_expires_at(at))
    kinds = KINDS[chosen] if chosen is not Channel.WHATSAPP or window_open else WINDOW_CLOSED_KINDS
    note = "" if kinds == KINDS[chosen] else WINDOW_CLOSED_NOTE.format(Name=_name(contact))
    verdict = gate.check(
        contact,
        chosen,
        sender or default_sender(chosen),
        is_template=kind == "template",
        at=at,
        tier_allows=lambda phone: tier.would_exceed([phone]) == 0,
    )
    if verdict.allowed:
        return ComposeCheck(True, verdict.message, kinds_allowed=kinds, note=note)
    label, url = _fix(contact, chosen, verdict.reason)
    code = verdict.reason.value if verdict.reason else None
    return ComposeCheck(False, verdict.message, label, url, kinds_allowed=kinds, code=code, note=note)


def _name(contact: Contact | None) -> str:
    return (getattr(contact, "name", None) or "").strip() or "This contact"


def _fix(contact: Contact | None, channel: Channel, reason: Reason | None) -> tuple[str | None, str | None]:
    """The action that removes the refusal, where a person at the composer can take it."""
    if contact is None or contact.is_deleted:
        return None, None
    if reason in CONSENT_FIXES:
        # The contact page's composer, where the consent form is (a link any composer can show);
        # the form itself posts to messaging:compose_consent with how the customer agreed.
        url = reverse("contacts:detail", args=[contact.contactId])
        return f"Record their {gate.channel_name(channel)} consent", f"{url}?consent={channel.value}#compose"
    if reason is Reason.NO_ADDRESS:
        field = RULES[channel].address_field
        return ADDRESS_FIXES.get(field, "Add an address"), reverse("contacts:edit", args=[contact.contactId])
    return None, None
