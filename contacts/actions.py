"""Everything that changes a contact. Pages, the API, the CSV import and the admin all call these,
so each rule (validation, uniqueness, consent records, audit) lives in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from contacts import consent, sms_opt_out_list
from contacts.models import CONSENT_FIELDS, LIVE, OPT_IN_FIELDS, Contact, ContactUniqueKey
from contacts.queries import get_contact
from contacts.validation import (
    InvalidValue,
    WhatsAppIdentity,
    normalise_email,
    normalise_name,
    normalise_phone,
    same_phone,
)
from wecare import audit
from wecare.dynamo import Transaction, now, transaction
from wecare.errors import Conflict, FieldErrors, NotFound

EDITABLE = ("name", "phone", "email", *OPT_IN_FIELDS.values())
OPT_IN_BY_FIELD = {field: channel for channel, field in OPT_IN_FIELDS.items()}
# What makes a contact reachable and unique; a live contact keeps at least one of them.
IDENTITY_FIELDS = ("phone", "email", "whatsappUserId")


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the given fields only (absent keys stay absent).

    Raises FieldErrors naming each bad field. An empty phone/email/name means "remove it".
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    unknown = set(data) - set(EDITABLE)
    for field in sorted(unknown):
        errors[field] = "is not a contact field"
    normalisers = {"name": normalise_name, "phone": normalise_phone, "email": normalise_email}
    for field, normalise in normalisers.items():
        if field not in data:
            continue
        value = data[field]
        if value is None or (isinstance(value, str) and value.strip() == ""):
            cleaned[field] = None
            continue
        if not isinstance(value, str):
            errors[field] = "must be text"
            continue
        try:
            cleaned[field] = normalise(value) or None  # a name of only invisible characters is none
        except InvalidValue as exc:
            errors[field] = str(exc)
    for field in OPT_IN_FIELDS.values():
        if field in data:
            if isinstance(data[field], bool):
                cleaned[field] = data[field]
            else:
                errors[field] = "must be true or false"
    if errors:
        raise FieldErrors(errors)
    return cleaned


def _conflict_for(tx: Transaction, error: TransactWriteError) -> Conflict:
    """Turn a cancelled transaction into a 409 naming the field whose value is taken."""
    for label in tx.failed_labels(error):
        if isinstance(label, tuple):
            field, value = label
            return Conflict(f"a live contact already has {field} {value}", field=field)
    raise error


def _unique_keys(contact: Contact) -> list[tuple[str, str]]:
    return [(field, value) for field in IDENTITY_FIELDS if (value := getattr(contact, field))]


def _key_item(field: str, value: str, contact_id: str) -> ContactUniqueKey:
    return ContactUniqueKey(uniqueKey=ContactUniqueKey.for_field(field, value), contactId=contact_id)


def _take_key(tx: Transaction, field: str, value: str, contact_id: str) -> None:
    tx.save(
        _key_item(field, value, contact_id), condition=ContactUniqueKey.uniqueKey.does_not_exist(), label=(field, value)
    )


def _release_key(tx: Transaction, field: str, value: str, contact_id: str) -> None:
    # Only the holder may release a key: never free a value another contact took meanwhile.
    tx.delete(_key_item(field, value, contact_id), condition=ContactUniqueKey.contactId == contact_id)


def _consent_record(
    user: Any, source: str, at: datetime, *, was_opted_in: bool, evidence: dict[str, Any] | None
) -> dict[str, Any]:
    """A create's or an edit's consent record: it names the history source and evidence its
    event has, and the opt-in before (a new contact had none, so its false is "never given")."""
    history_source, origin_evidence = consent.source_of(source)
    return consent.consent_record(
        audit.actor_id(user),
        at,
        source,
        how=history_source,
        was_opted_in=was_opted_in,
        evidence={**origin_evidence, **(evidence or {})},
    )


def _set_consent(contact: Contact, field: str, value: bool, user: Any, source: str, at: datetime) -> None:
    channel = OPT_IN_BY_FIELD[field]
    setattr(contact, field, value)
    setattr(contact, CONSENT_FIELDS[channel], _consent_record(user, source, at, was_opted_in=False, evidence=None))


def _add_consent_events(
    tx: Transaction,
    contact_id: str,
    opt_ins: dict[str, bool],
    *,
    user: Any,
    source: str,
    evidence: dict[str, Any] | None,
    at: datetime,
) -> None:
    """The history events of the opt-ins a create or an edit sets, in that change's transaction."""
    history_source, origin_evidence = consent.source_of(source)
    for field, value in opt_ins.items():
        consent.add_event(
            tx,
            contact_id,
            OPT_IN_BY_FIELD[field],
            value,
            source=history_source,
            actor=audit.actor_id(user),
            detail=source,
            evidence={**origin_evidence, **(evidence or {})},
            at=at,
        )


def create_contact(
    data: dict[str, Any], *, user: Any, source: str, audited: bool = True, whatsapp: WhatsAppIdentity | None = None
) -> Contact:
    """Create a live contact. Needs a phone or an email; opt-ins default to false.

    ``audited=False`` is for the CSV import, which writes one audit entry for the whole file
    (and the contact's consent records name the import as their source).

    ``whatsapp``: the sender of an inbound message, as WhatsApp identified them. Its number is
    stored as given, not judged by the rules for typed numbers (WhatsApp verified it), and a
    business-scoped user id alone is enough to make a contact."""
    cleaned = clean(data)
    if whatsapp:
        cleaned.update({"phone": whatsapp.phone, "whatsappUserId": whatsapp.user_id})
    if not any(cleaned.get(field) for field in IDENTITY_FIELDS):
        raise FieldErrors(
            {"phone": "give a phone number or an email address", "email": "give a phone number or an email address"}
        )
    at = now()
    name = cleaned.get("name")
    contact = Contact(
        contactId=str(ULID()),
        name=name,
        nameLower=name.lower() if name else None,
        phone=cleaned.get("phone"),
        email=cleaned.get("email"),
        whatsappUserId=cleaned.get("whatsappUserId"),
        createdAt=at,
        updatedAt=at,
        liveList=LIVE,
    )
    opt_ins = {field: cleaned[field] for field in OPT_IN_FIELDS.values() if field in cleaned}
    for field, value in opt_ins.items():
        _set_consent(contact, field, value, user, source, at)
    keys = _unique_keys(contact)
    try:
        with transaction() as tx:
            tx.save(contact, condition=Contact.contactId.does_not_exist())
            for field, value in keys:
                _take_key(tx, field, value, contact.contactId)
            _add_consent_events(tx, contact.contactId, opt_ins, user=user, source=source, evidence=None, at=at)
    except TransactWriteError as exc:
        raise _conflict_for(tx, exc) from None
    if audited:
        audit.record(
            user,
            "contact.create",
            "contact",
            contact.contactId,
            source=source,
            fields=sorted(f for f, v in cleaned.items() if v is not None),
        )
    return contact


def add_whatsapp_identity(
    contact: Contact, sender: WhatsAppIdentity, *, source: str, evidence: dict[str, Any]
) -> Contact:
    """Give a contact found by one of an inbound sender's identities the one it lacks (the number
    WhatsApp gave, or the business-scoped user id), so the next message finds it by either and
    the inbox finds it from either conversation key (docs/design/inbound.md). Never replaces a number
    or id the contact has. The field and its unique key change in one transaction; the system is
    the actor and ``evidence`` (the message) goes into the audit entry.

    Raises Conflict when another live contact holds the value (two contacts are never merged
    silently), NotFound when the contact was deleted meanwhile."""
    missing = {
        field: value
        for field, value in (("phone", sender.phone), ("whatsappUserId", sender.user_id))
        if value and not getattr(contact, field)
    }
    if not missing:
        return contact
    condition = Contact.contactId.exists() & Contact.deletedAt.does_not_exist()
    for field in missing:
        condition &= getattr(Contact, field).does_not_exist()  # a value set meanwhile is kept
    actions = [Contact.updatedAt.set(now()), *(getattr(Contact, field).set(value) for field, value in missing.items())]
    try:
        with transaction() as tx:
            tx.update(contact, actions=actions, condition=condition, label="contact")
            for field, value in missing.items():
                _take_key(tx, field, value, contact.contactId)
    except TransactWriteError as exc:
        current = get_contact(contact.contactId)  # NotFound if it was deleted meanwhile
        if all(getattr(current, field) == value for field, value in missing.items()):
            return current  # another message from this sender linked it a moment ago
        if any(isinstance(label, tuple) for label in tx.failed_labels(exc)):
            raise _conflict_for(tx, exc) from None
        raise Conflict(
            f"contact {contact.contactId} got another {' or '.join(missing)} meanwhile", field=next(iter(missing))
        ) from None
    audit.record(
        None,
        "contact.update",
        "contact",
        contact.contactId,
        source=source,
        changes={f: {"from": None, "to": v} for f, v in missing.items()},
        **evidence,
    )
    return get_contact(contact.contactId)


def update_contact(
    contact_id: str, data: dict[str, Any], *, user: Any, source: str, evidence: dict[str, Any] | None = None
) -> Contact:
    """Change only the fields given. Opt-ins change only when given explicitly, and each change
    records who, when and from where, and writes its consent history event (with ``evidence``,
    e.g. the inbox conversation, or ``{"note"}``: a person's word for how the customer agreed) in
    the same transaction. Opting SMS in again after the customer withdrew it needs that note, and
    takes the number off the SMS opt-out list first. A new phone or email takes its unique
    key atomically.

    The stored phone sent back unchanged (however punctuated) is no change: a number taken from
    WhatsApp need not pass the rules for typed numbers to let a person edit the other fields."""
    contact = get_contact(contact_id)
    if isinstance(data.get("phone"), str) and same_phone(data["phone"], contact.phone):
        data = {f: v for f, v in data.items() if f != "phone"}
    cleaned = clean(data)
    changed = {f: v for f, v in cleaned.items() if getattr(contact, f) != v}
    if not changed:
        return contact
    if not any(changed.get(f, getattr(contact, f)) for f in IDENTITY_FIELDS):
        raise FieldErrors({"phone": "a contact keeps a phone number or an email address"})
    evidence = {**(evidence or {}), **_sms_reopt_in(contact, changed, evidence)}

    at = now()
    actions = [Contact.updatedAt.set(at)]
    for field, value in changed.items():
        attribute = getattr(Contact, field)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
        if field == "name":
            actions.append(Contact.nameLower.set(value.lower()) if value else Contact.nameLower.remove())
        if field in OPT_IN_BY_FIELD:
            consent_attr = getattr(Contact, CONSENT_FIELDS[OPT_IN_BY_FIELD[field]])
            was = contact.opted_in(OPT_IN_BY_FIELD[field])
            record = _consent_record(user, source, at, was_opted_in=was, evidence=evidence)
            actions.append(consent_attr.set(record))
    opt_ins = {f: v for f, v in changed.items() if f in OPT_IN_BY_FIELD}

    new_keys = [(f, changed[f]) for f in ("phone", "email") if changed.get(f)]
    old_keys = [(f, getattr(contact, f)) for f in ("phone", "email") if f in changed and getattr(contact, f)]
    try:
        with transaction() as tx:
            tx.update(
                contact,
                actions=actions,
                condition=Contact.contactId.exists() & Contact.deletedAt.does_not_exist(),
                label="contact",
            )
            for field, value in new_keys:
                _take_key(tx, field, value, contact_id)
            for field, value in old_keys:
                _release_key(tx, field, value, contact_id)
            _add_consent_events(tx, contact_id, opt_ins, user=user, source=source, evidence=evidence, at=at)
    except TransactWriteError as exc:
        if "contact" in tx.failed_labels(exc):
            raise NotFound(f"contact {contact_id} was deleted meanwhile") from None
        raise _conflict_for(tx, exc) from None
    audit.record(
        user,
        "contact.update",
        "contact",
        contact_id,
        source=source,
        changes={f: {"from": _plain(getattr(contact, f)), "to": _plain(v)} for f, v in changed.items()},
    )
    return get_contact(contact_id)


# How a customer (an opt-out word) or the provider (AWS refusing for the opt-out list) withdrew SMS
# consent, as the contact's consent record names it: opting such a number in again takes evidence.
SMS_WITHDRAWN_BY = ("keyword", "sms_optout_list")
MAX_EVIDENCE_NOTE = 500


def _sms_reopt_in(contact: Contact, changed: dict[str, Any], evidence: dict[str, Any] | None) -> dict[str, Any]:
    """What a person opting SMS in again adds to the evidence. When the customer (or AWS's list)
    withdrew it, the number is on the SMS opt-out list: it comes off only with a note of how the
    customer consented again (FieldErrors without one), and before the opt-in is recorded, so the
    two never disagree the other way (consent on, AWS refusing). docs/design/contacts.md."""
    record = contact.consent("sms")
    if changed.get("optInSms") is not True or record is None or record.source not in SMS_WITHDRAWN_BY:
        return {}
    number = changed.get("phone", contact.phone)
    note = ((evidence or {}).get("note") or "").strip()
    if not note:
        raise FieldErrors(
            {
                "optInSms": (
                    f"The customer withdrew SMS consent ({record.source}) and {number or 'their number'} is on the"
                    " SMS opt-out list: say how they consented again (consent evidence, e.g. 'customer asked by"
                    " phone on 2026-11-30') to opt them in and take the number off the list."
                )
            }
        )
    if len(note) > MAX_EVIDENCE_NOTE:
        raise FieldErrors({"consentEvidence": f"is {len(note)} characters; at most {MAX_EVIDENCE_NOTE}"})
    removed = sms_opt_out_list.remove(number) if number else False
    return {"note": note, "smsOptOutList": "removed" if removed else "not listed"}


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, str, int)) else str(value)


def delete_contact(contact_id: str, *, user: Any) -> Contact:
    """Soft delete: set deletedAt, leave lists and search, free the phone and email."""
    contact = get_contact(contact_id)
    at = now()
    keys = _unique_keys(contact)
    try:
        with transaction() as tx:
            tx.update(
                contact,
                actions=[Contact.deletedAt.set(at), Contact.updatedAt.set(at), Contact.liveList.remove()],
                condition=Contact.deletedAt.does_not_exist(),
            )
            for field, value in keys:
                _release_key(tx, field, value, contact_id)
    except TransactWriteError:
        raise NotFound(f"contact {contact_id} is already deleted") from None
    audit.record(user, "contact.delete", "contact", contact_id)
    return get_contact(contact_id, include_deleted=True)


def restore_contact(contact_id: str, *, user: Any) -> Contact:
    """Undo a soft delete, if no live contact took the phone or email meanwhile (else 409)."""
    contact = get_contact(contact_id, include_deleted=True)
    if not contact.is_deleted:
        return contact
    keys = _unique_keys(contact)
    try:
        with transaction() as tx:
            tx.update(
                contact,
                actions=[Contact.deletedAt.remove(), Contact.updatedAt.set(now()), Contact.liveList.set(LIVE)],
                condition=Contact.deletedAt.exists(),
            )
            for field, value in keys:
                _take_key(tx, field, value, contact_id)
    except TransactWriteError as exc:
        raise _conflict_for(tx, exc) from None
    audit.record(user, "contact.restore", "contact", contact_id)
    return get_contact(contact_id)
