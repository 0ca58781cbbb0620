"""The consent history of contacts written before there was one: one event per channel whose
"last changed" record (``Contact.consent``) exists but which has no event yet, dated and
attributed as that record says and marked as backfilled. docs/design/contacts.md, "Consent history".
"""

from __future__ import annotations

from collections import Counter

from contacts import consent
from contacts.models import CHANNELS, ConsentEvent, Contact
from wecare.dynamo import transaction


def backfill(*, dry_run: bool = False) -> Counter[str]:
    """Counts: "written" events, "present" channels that already had history, "no-record"
    channels never changed. Safe to run again: a channel with any event is left alone."""
    counts: Counter[str] = Counter()
    for contact in Contact.scan():
        for channel in CHANNELS:
            record = contact.consent(channel)
            if record is None:
                counts["no-record"] += 1
                continue
            if _has_history(contact.contactId, channel):
                counts["present"] += 1
                continue
            counts["written"] += 1
            if dry_run:
                continue
            source, evidence = consent.source_of(record.source)
            with transaction() as tx:
                consent.add_event(
                    tx,
                    contact.contactId,
                    channel,
                    contact.opted_in(channel),
                    source=source,
                    actor=record.changedBy,
                    detail=record.source,
                    # Said plainly: this event was made from the contact's record afterwards, not
                    # written when the change happened.
                    evidence={**evidence, "backfilled": True},
                    at=record.changedAt,
                )
    return counts


def _has_history(contact_id: str, channel: str) -> bool:
    events = ConsentEvent.query(contact_id, ConsentEvent.eventKey.startswith(f"{channel}#"), limit=1)
    return next(iter(events), None) is not None
