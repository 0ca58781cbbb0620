"""One-click unsubscribe links (RFC 8058): a signed token naming a contact and a channel, the URL a
bulk email carries in ``List-Unsubscribe``, and the opt-out a POST to it records without a login.
Why a signed token and how long it lives: docs/design/email-feedback.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing

from contacts import consent
from contacts.models import CHANNELS, Contact
from contacts.queries import get_contact
from wecare.errors import NotFound

# Namespaces the signature: a token signed for anything else in the project (cursors...) is not
# an unsubscribe token, even though they share SECRET_KEY.
SALT = "contacts.unsubscribe"
# What RFC 8058 says a one-click POST carries; the page's own button sends the same.
ONE_CLICK = ("List-Unsubscribe", "One-Click")
USER_AGENT_CHARS = 300


class LinkExpired(Exception):
    """The signature is good but older than UNSUBSCRIBE_LINK_MAX_AGE_DAYS."""


class LinkInvalid(Exception):
    """Not a token this platform signed (forged, altered, cut short)."""


@dataclass(frozen=True)
class Link:
    contact_id: str
    channel: str
    message_id: str | None
    link_id: str  # a hash of the token: the history names the link without holding a capability


def token(contact_id: str, channel: str, *, message_id: str | None = None) -> str:
    """The signed, timestamped token of a contact's opt-out on ``channel`` (URL-safe)."""
    payload: dict[str, Any] = {"c": contact_id, "ch": channel}
    if message_id:
        payload["m"] = message_id
    return signing.dumps(payload, salt=SALT, compress=True)


def url(contact_id: str, channel: str, *, message_id: str | None = None) -> str:
    """The absolute one-click URL (``{SITE_URL}/u/{token}``); ValueError when SITE_URL is unset,
    because a link that points nowhere would break the promise the header makes."""
    if not settings.SITE_URL:
        raise ValueError("SITE_URL is not set: an unsubscribe link needs the address people open the app at")
    return f"{settings.SITE_URL}/u/{token(contact_id, channel, message_id=message_id)}"


def read(value: str) -> Link:
    """The link ``value`` names. LinkExpired past its age, LinkInvalid for anything not signed here."""
    max_age = settings.UNSUBSCRIBE_LINK_MAX_AGE_DAYS * 24 * 3600
    try:
        payload = signing.loads(value, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise LinkInvalid(str(exc)) from None
    if not isinstance(payload, dict):
        raise LinkInvalid("not an unsubscribe token")
    contact_id, channel, message_id = payload.get("c"), payload.get("ch"), payload.get("m")
    if not isinstance(contact_id, str) or channel not in CHANNELS or not isinstance(message_id, (str, type(None))):
        raise LinkInvalid("not an unsubscribe token")
    return Link(contact_id, channel, message_id, hashlib.sha256(value.encode()).hexdigest()[:32])


def opted_in(link: Link) -> bool | None:
    """Whether the link's contact still gets messages on its channel; None when the contact is gone."""
    try:
        return get_contact(link.contact_id).opted_in(link.channel)
    except NotFound:
        return None


def unsubscribe(link: Link, *, user_agent: str | None = None) -> Contact | None:
    """Record the customer's opt-out on the link's channel; a second time changes nothing (the
    consent history holds changes only). None when the contact no longer exists: nothing is
    sent to a deleted contact, so there is nothing left to stop."""
    try:
        contact = get_contact(link.contact_id)
        return consent.change(
            contact,
            link.channel,
            False,
            source="unsubscribe_link",
            actor=consent.CUSTOMER,
            evidence={
                "link": link.link_id,
                "messageId": link.message_id,
                "userAgent": (user_agent or "")[:USER_AGENT_CHARS] or None,
            },
        )
    except NotFound:
        return None
