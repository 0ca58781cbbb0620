"""A WhatsApp number's business profile (about, description, address, email, websites, vertical) as
admins keep it here: one ``BUSINESS_PROFILE`` item per number, each save a new version with who
changed which field, and whether the profile is known to be applied in WhatsApp. AWS End User
Messaging Social has no operation that sets a profile, so an admin applies it in Meta's WhatsApp
Manager and then marks it applied here (audited). Why: docs/design/business-numbers.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from messaging.channels import Channel, allowed_senders
from messaging.whatsapp_table import WaBusinessProfile
from wecare import audit
from wecare.dynamo import now
from wecare.errors import NotFound

# Meta's limits for the profile (Cloud API reference, "Business Profiles":
# developers.facebook.com/docs/whatsapp/cloud-api/reference/business-profiles): about 1-139
# characters, address 256, description 512, email 128 in a valid email format, at most 2 websites
# of 256 characters each with their http:// or https://, vertical one of a fixed list (or empty).
MAX_ABOUT = 139
MAX_ADDRESS = 256
MAX_DESCRIPTION = 512
MAX_EMAIL = 128
MAX_WEBSITES = 2
MAX_WEBSITE = 256
# Meta's values, with the words WhatsApp shows for them. UNDEFINED (Meta's "no category") is the
# empty choice here.
VERTICALS = {
    "AUTO": "Automotive",
    "BEAUTY": "Beauty, spa and salon",
    "APPAREL": "Clothing and apparel",
    "EDU": "Education",
    "ENTERTAIN": "Entertainment",
    "EVENT_PLAN": "Event planning and service",
    "FINANCE": "Finance and banking",
    "GROCERY": "Food and grocery",
    "GOVT": "Public service",
    "HOTEL": "Hotel and lodging",
    "HEALTH": "Medical and health",
    "NONPROFIT": "Non-profit",
    "PROF_SERVICES": "Professional services",
    "RETAIL": "Shopping and retail",
    "TRAVEL": "Travel and transportation",
    "RESTAURANT": "Restaurant",
    "NOT_A_BIZ": "Not a business",
    "OTHER": "Other",
}
FIELDS = ("about", "description", "address", "email", "websites", "vertical")
LABELS = {
    "about": "About",
    "description": "Description",
    "address": "Address",
    "email": "Email",
    "websites": "Websites",
    "vertical": "Category",
    "appliedState": "Applied in WhatsApp",
}
# The item keeps the newest versions (a DynamoDB item holds 400 KB); the audit log keeps every one.
MAX_HISTORY = 50


class AppliedState(StrEnum):
    UNKNOWN = "unknown"  # nothing saved here: WhatsApp shows whatever was set in WhatsApp Manager
    PENDING = "pending"  # saved here, not yet marked applied in WhatsApp
    APPLIED = "applied"  # an admin said this version is what WhatsApp shows


class Conflict(Exception):
    """Someone saved the profile, or marked it applied, since the version this change was based on."""


@dataclass(frozen=True)
class Profile:
    phone_number_id: str
    about: str = ""
    description: str = ""
    address: str = ""
    email: str = ""
    websites: tuple[str, ...] = ()
    vertical: str = ""
    version: int = 0
    applied_state: str = AppliedState.UNKNOWN
    applied_at: str = ""
    applied_by: str = ""
    updated_at: str = ""
    updated_by: str = ""
    history: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    @property
    def vertical_label(self) -> str:
        return VERTICALS.get(self.vertical, self.vertical)

    @property
    def updated_when(self) -> datetime | None:
        return datetime.fromisoformat(self.updated_at) if self.updated_at else None

    @property
    def applied_when(self) -> datetime | None:
        return datetime.fromisoformat(self.applied_at) if self.applied_at else None

    @property
    def newest_first(self) -> list[dict[str, Any]]:
        """The history for the page, newest first: each entry's time read as a datetime and its
        changes as (field's label, before, after) in words."""
        return [
            {
                **entry,
                "when": datetime.fromisoformat(entry["at"]),
                "changed": [
                    (LABELS.get(name, name), _words(name, change.get("before")), _words(name, change.get("after")))
                    for name, change in (entry.get("changes") or {}).items()
                ],
            }
            for entry in reversed(self.history)
        ]


def key(phone_number_id: str) -> str:
    # The tenant is the business number, as for the auto-replies (messaging/autoreply/config.py).
    return f"TENANT#{phone_number_id}#BIZPROFILE#{phone_number_id}"


def check_number(phone_number_id: str) -> str:
    if phone_number_id not in allowed_senders(Channel.WHATSAPP):
        raise NotFound(f"{phone_number_id} is not an allowlisted WhatsApp number")
    return phone_number_id


def load(phone_number_id: str) -> Profile:
    """The profile as saved here; an empty one (version 0, state unknown) before the first save."""
    try:
        item = WaBusinessProfile.get(key(phone_number_id), consistent_read=True)
    except WaBusinessProfile.DoesNotExist:
        return Profile(phone_number_id)
    return Profile(
        phone_number_id,
        about=item.about or "",
        description=item.description or "",
        address=item.address or "",
        email=item.email or "",
        websites=tuple(item.websites or ()),
        vertical=item.vertical or "",
        version=int(item.profileVersion or 0),
        applied_state=item.appliedState or AppliedState.UNKNOWN,
        applied_at=item.appliedAt or "",
        applied_by=item.appliedBy or "",
        updated_at=item.updatedAt or "",
        updated_by=item.updatedBy or "",
        history=tuple(dict(entry) for entry in item.versionHistory or ()),
    )


def _conditional_failed(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def save(phone_number_id: str, values: dict[str, Any], *, expected_version: int, user: Any) -> Profile:
    """Values already validated (messaging/business_number_forms.py). A new version with the fields
    that changed (before and after), pending until marked applied; nothing is written when nothing
    changed. Raises Conflict when the profile is no longer at ``expected_version``."""
    current = load(check_number(phone_number_id))
    if current.version != expected_version:
        raise Conflict(f"the profile is at version {current.version}, not {expected_version}")
    wanted = {name: tuple(values[name]) if name == "websites" else values[name] for name in FIELDS}
    changes = {
        name: {"before": _stored(getattr(current, name)), "after": _stored(wanted[name])}
        for name in FIELDS
        if getattr(current, name) != wanted[name]
    }
    if not changes:
        return current
    at, by, version = now().isoformat(), audit.actor_id(user), expected_version + 1
    history = [*current.history, {"version": version, "at": at, "by": by, "changes": changes}][-MAX_HISTORY:]
    item = WaBusinessProfile(
        pk=key(phone_number_id),
        tenantId=phone_number_id,
        phoneNumberId=phone_number_id,
        about=wanted["about"] or None,
        description=wanted["description"] or None,
        address=wanted["address"] or None,
        email=wanted["email"] or None,
        websites=list(wanted["websites"]) or None,
        vertical=wanted["vertical"] or None,
        appliedState=AppliedState.PENDING.value,
        # When an earlier version was applied, and by whom, stays to read beside "pending".
        appliedAt=current.applied_at or None,
        appliedBy=current.applied_by or None,
        versionHistory=history,
        profileVersion=version,
        updatedAt=at,
        updatedBy=by,
        receivedAt=at,  # lists the profiles on the itemType index by their last change
    )
    # Version 0: no item, or one written before profiles had versions (load reads it as 0), which
    # a first save must be able to replace; two first saves still race on profileVersion's absence.
    condition = (
        WaBusinessProfile.pk.does_not_exist() | WaBusinessProfile.profileVersion.does_not_exist()
        if expected_version == 0
        else WaBusinessProfile.profileVersion == expected_version
    )
    try:
        item.save(condition=condition)
    except PutError as exc:
        if _conditional_failed(exc):
            raise Conflict("the profile changed while it was being saved") from None
        raise
    audit.record(user, "business_profile.set", "business_profile", phone_number_id, version=version, changes=changes)
    return load(phone_number_id)


def mark_applied(phone_number_id: str, *, version: int, user: Any) -> Profile:
    """An admin says the profile at ``version`` is what WhatsApp shows (they applied it in WhatsApp
    Manager). Raises Conflict unless that version is the current one and still pending."""
    current = load(check_number(phone_number_id))
    if current.version != version or current.applied_state != AppliedState.PENDING:
        raise Conflict(f"version {version} is not the pending version of this profile")
    at, by = now().isoformat(), audit.actor_id(user)
    change = {"appliedState": {"before": AppliedState.PENDING.value, "after": AppliedState.APPLIED.value}}
    history = [*current.history, {"version": version, "at": at, "by": by, "changes": change}][-MAX_HISTORY:]
    try:
        WaBusinessProfile(pk=key(phone_number_id)).update(
            actions=[
                WaBusinessProfile.appliedState.set(AppliedState.APPLIED.value),
                WaBusinessProfile.appliedAt.set(at),
                WaBusinessProfile.appliedBy.set(by),
                WaBusinessProfile.versionHistory.set(history),
            ],
            condition=(WaBusinessProfile.profileVersion == version)
            & (WaBusinessProfile.appliedState == AppliedState.PENDING.value),
        )
    except UpdateError as exc:
        if _conditional_failed(exc):
            raise Conflict("the profile changed while it was being marked applied") from None
        raise
    audit.record(user, "business_profile.applied", "business_profile", phone_number_id, version=version)
    return load(phone_number_id)


def _stored(value: Any) -> Any:
    """A value as the item and its history keep it: websites as a list, the rest as given."""
    return list(value) if isinstance(value, tuple) else value


def _words(name: str, value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if name == "vertical":
        return VERTICALS.get(str(value or ""), str(value or ""))
    return str(value or "")
