"""Bulk test fixtures: many contacts at once, LIVE sends to the local fake (so each provider
call is counted at the sender boundary), generous rate limits so tests do not wait on them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ulid import ULID

from bulk import actions, preparation, sending
from bulk.batching import write_all
from contacts.models import LIVE, Contact
from wecare.dynamo import now


@pytest.fixture
def make_contacts(new_phone):
    """Write n contacts in BatchWriteItem calls. They skip the ContactUniqueKeys table that
    contacts.actions keeps: phones here are never repeated (new_phone), and uniqueness is not
    what bulk tests test; 2,000 contacts through create_contact would take most of a minute."""

    def make(
        n: int, *, channel_opt_in: dict | None = None, tag: str = "", in_window: bool = False, **overrides
    ) -> list[Contact]:
        at = now()
        opt = {"optInWhatsApp": True, "optInSms": True, "optInEmail": True, **(channel_opt_in or {})}
        contacts = []
        for i in range(n):
            contact_id = str(ULID())
            values = {
                "contactId": contact_id,
                "name": f"Bulk {tag} {i}",
                "nameLower": f"bulk {tag} {i}".lower(),
                "phone": new_phone(),
                "email": f"bulk-{contact_id.lower()}@example.com",
                "createdAt": at,
                "updatedAt": at,
                "liveList": LIVE,
                "lastInboundMessageAt": (at - timedelta(hours=1)) if in_window else None,
                **opt,
                **overrides,
            }
            if values.get("deletedAt"):
                values["liveList"] = None
            contacts.append(Contact(**values))
        write_all(contacts)
        return contacts

    return make


@pytest.fixture
def live_fake(settings, fake_aws_clean):
    """LIVE sends to the local fake: its call log is the count of provider calls."""
    settings.SEND_MODE = "LIVE"
    settings.SEND_RETRY_BASE_SECONDS = 0.01
    settings.RATE_LIMIT_SMS = 1000
    settings.RATE_LIMIT_EMAIL = 1000
    return fake_aws_clean


def sms(text: str = "Hello from the campaign") -> dict:
    return {"text": text}


SMALL_CHUNK = 2 * sending.CLAIM_BATCH


@pytest.fixture
def small_chunks(monkeypatch) -> int:
    """Chunks of 20 recipients instead of 100, for tests of what happens across several chunks (a
    job run to its end, a cancel between chunks, numbers taking turns, an upload shared by
    chunks): each recipient sent costs several requests to the in-process moto, so a fifth of the recipients
    is a fifth of the time. A chunk still spans two claim batches (sending.CLAIM_BATCH), so the
    claim loop runs more than once per chunk; the 100-recipient chunk itself is checked by
    test_actions and test_preparation, which keep the real size."""
    monkeypatch.setattr(preparation, "CHUNK_SIZE", SMALL_CHUNK)
    monkeypatch.setattr(actions, "CHUNK_SIZE", SMALL_CHUNK)  # imported by name, for the job's chunkCount
    return SMALL_CHUNK
