"""Contacts written before the consent history get one event per changed channel, from their own
last-changed record, marked as backfilled; a second run writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from ulid import ULID

from contacts import queries
from contacts.models import Contact

pytestmark = pytest.mark.django_db


def old_contact(phone: str) -> Contact:
    """A contact as the code before the history wrote it: opt-ins and their records, no events."""
    at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    contact = Contact(
        contactId=str(ULID()),
        phone=phone,
        optInSms=True,
        consentSms={"changedBy": "asha", "changedAt": at, "source": "csv:01IMPORT"},
        optInWhatsApp=False,
        consentWhatsApp={"changedBy": "ravi", "changedAt": at, "source": "page"},
        createdAt=at,
        updatedAt=at,
    )
    contact.save()
    return contact


def test_each_changed_channel_gets_one_backfilled_event_as_its_record_says_and_a_rerun_writes_nothing(
    new_phone, capsys
):
    contact = old_contact(new_phone())
    call_command("backfill_consent_history", "--dry-run")
    assert "would write" in capsys.readouterr().out
    assert queries.consent_history(contact.contactId) == []  # a dry run writes nothing

    call_command("backfill_consent_history")
    assert "wrote" in capsys.readouterr().out
    events = {e.channel: e for e in queries.consent_history(contact.contactId)}
    assert set(events) == {"sms", "whatsapp"}  # email was never changed: no event
    sms, whatsapp = events["sms"], events["whatsapp"]
    assert (sms.optedIn, sms.actor, sms.source, sms.evidence) == (
        True,
        "asha",
        "import",
        {"importId": "01IMPORT", "backfilled": True},
    )
    assert sms.at == datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    assert (whatsapp.optedIn, whatsapp.actor, whatsapp.source) == (False, "ravi", "operator")

    call_command("backfill_consent_history")
    assert len(queries.consent_history(contact.contactId)) == 2
