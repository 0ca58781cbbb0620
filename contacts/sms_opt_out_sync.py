"""The periodic check that SMS consent agrees with AWS's SMS opt-out list: a contact still opted in
to SMS whose number is on the list (put there from the console, by AWS for a keyword we never
heard, or before the platform existed) has SMS consent turned off, the provider as the actor. It
never turns consent on: only the customer's word or a person with evidence does that.
docs/design/contacts.md, "The SMS opt-out list".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

from celery import shared_task
from django.conf import settings

from contacts import consent
from contacts.models import ContactUniqueKey
from contacts.queries import holder_of
from contacts.sms_opt_out_list import SERVICE, holds
from wecare.aws import client
from wecare.errors import Conflict, NotFound

log = logging.getLogger(__name__)


def opted_out_numbers() -> Iterator[dict[str, Any]]:
    """Every entry of the list (OptedOutNumber, OptedOutTimestamp, EndUserOptedOut), page by page."""
    pages = client(SERVICE).get_paginator("describe_opted_out_numbers")
    for page in pages.paginate(OptOutListName=settings.SMS_OPT_OUT_LIST):
        yield from page.get("OptedOutNumbers", [])


def reconcile() -> dict[str, int]:
    """{"listed", "turned_off", "no_contact", "already_off", "not_changed"} counts."""
    counts: Counter[str] = Counter()
    for entry in opted_out_numbers():
        counts["listed"] += 1
        contact = holder_of(ContactUniqueKey.for_phone(entry["OptedOutNumber"]), consistent_read=True)
        if contact is None:
            counts["no_contact"] += 1
            continue
        if not contact.opted_in("sms"):
            counts["already_off"] += 1
            continue
        if not holds(entry["OptedOutNumber"]):
            # Taken off since its page was read (the customer's START, a person's re-opt-in): the
            # opt-in is newer than what this page says, and turning it off would lose it.
            counts["not_changed"] += 1
            continue
        evidence = {
            "reason": "on the SMS opt-out list",
            "optOutList": settings.SMS_OPT_OUT_LIST,
            "optedOutAt": entry["OptedOutTimestamp"].isoformat() if entry.get("OptedOutTimestamp") else None,
            "endUserOptedOut": entry.get("EndUserOptedOut"),
        }
        try:
            consent.change(contact, "sms", False, source="sms_optout_list", actor=consent.PROVIDER, evidence=evidence)
        except (NotFound, Conflict) as exc:  # deleted or changing right now: the next run sees it
            log.warning("sms opt-out not reconciled", extra={"contact_id": contact.contactId, "reason": str(exc)})
            counts["not_changed"] += 1
            continue
        counts["turned_off"] += 1
    summary = {key: counts[key] for key in ("listed", "turned_off", "no_contact", "already_off", "not_changed")}
    log.info("sms opt-out list reconciled", extra=summary)
    return summary


# Beat runs it (settings.CELERY_BEAT_SCHEDULE) on the default queue; safe to run at any time and
# any number of times (a contact already off is left alone).
@shared_task(name="contacts.reconcile_sms_opt_outs")
def reconcile_sms_opt_outs() -> dict[str, int]:
    return reconcile()
