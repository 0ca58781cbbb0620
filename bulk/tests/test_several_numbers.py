"""A WhatsApp campaign on several business numbers: the API and the wizard take them, the
recipients take the numbers in turn (so every chunk sends from all of them, each at its own rate
limit), and what was sent from which number is recorded and counted per number."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from django.conf import settings

from bulk import queries, sending
from bulk.queries import all_recipients
from messaging import business_numbers
from messaging.models import Message, UsageCounter
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def numbers() -> list[str]:
    assert len(settings.WHATSAPP_PHONE_NUMBER_IDS) >= 2  # the test settings allowlist two
    return list(settings.WHATSAPP_PHONE_NUMBER_IDS[:2])


def job_body(contacts, **extra) -> str:
    return json.dumps(
        {
            "audience": {"contactIds": [c.contactId for c in contacts]},
            "channel": "whatsapp",
            "message": {"text": "Our new menu is out"},
            **extra,
        }
    )


def test_the_preview_shows_every_number_and_the_time_at_their_combined_rate(
    client, operator, make_contacts, numbers, settings
):
    settings.RATE_LIMIT_WHATSAPP_PER_NUMBER = 10
    client.force_login(operator)
    contacts = make_contacts(40, in_window=True)
    one = client.post("/api/bulk/jobs/preview", job_body(contacts), content_type=JSON).json()
    two = client.post("/api/bulk/jobs/preview", job_body(contacts, senders=numbers), content_type=JSON).json()
    assert (one["senders"], one["estimatedSeconds"]) == ([numbers[0]], 4.0)  # 40 at 10/s
    assert (two["sender"], two["senders"], two["estimatedSeconds"]) == (numbers[0], numbers, 2.0)  # 40 at 2 x 10/s


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"senders": ["phone-number-id-not-ours"]}, "not an allowlisted WhatsApp number: phone-number-id-not-ours"),
        ({"channel": "sms", "senders": ["pool-a", "pool-b"]}, "several senders are for WhatsApp numbers only"),
    ],
)
def test_a_number_off_the_allowlist_or_several_sms_senders_are_refused_with_the_reason(
    client, operator, make_contacts, extra, says
):
    client.force_login(operator)
    contacts = make_contacts(2, in_window=True)
    response = client.post("/api/bulk/jobs/preview", job_body(contacts, **extra), content_type=JSON)
    assert response.status_code == 422
    assert says in json.dumps(response.json())


def test_recipients_take_the_numbers_in_turn_and_each_number_sends_its_share(
    client, operator, make_contacts, numbers, live_fake, monkeypatch, small_chunks
):
    total = 2 * small_chunks + small_chunks // 2  # three chunks, the last half full
    queued: list = []
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: queued.append(args))
    client.force_login(operator)
    contacts = make_contacts(total, in_window=True)
    response = client.post(
        "/api/bulk/jobs",
        job_body(contacts, senders=numbers, confirm=True, previewedCount=total),
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    job_id = response.json()["jobId"]
    assert response.json()["senders"] == numbers
    recipients = list(all_recipients(job_id))
    assert [r.sender for r in recipients[:4]] == [numbers[0], numbers[1], numbers[0], numbers[1]]
    assert len(queued) == 3  # each sending from both numbers
    for args in queued:
        sending.run_chunk(*args)

    job = queries.get_job(job_id)
    assert (job.status, job.sentCount) == ("completed", total)
    calls = Counter(c["params"]["originationPhoneNumberId"] for c in live_fake.calls("SendWhatsAppMessage"))
    assert calls == {numbers[0]: total // 2, numbers[1]: total // 2}
    for recipient in all_recipients(job_id):
        assert Message.get(recipient.messageId).sender == recipient.sender  # recorded from its own number
    day = now().strftime("%Y-%m-%d")
    usage = {n: UsageCounter.get(f"whatsapp#{n}#{day}").freeformCount for n in numbers}
    assert min(usage.values()) >= total // 2  # counted per number (other tests of this process add too)


def test_the_wizard_offers_the_other_numbers_and_starts_the_job_on_all_of_them(
    client_for, operator, make_contacts, numbers, live_fake, monkeypatch
):
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: None)
    contacts = make_contacts(3, in_window=True)
    client = client_for(operator)
    response = client.post("/bulk/new/", {"kind": "filter", "search": contacts[0].name})
    assert response.status_code == 302
    page = client.get("/bulk/new/message/").content.decode()
    assert 'id="also-from"' in page and f'name="also_from" value="{numbers[1]}"' in page
    assert f'name="also_from" value="{numbers[0]}"' not in page  # the number chosen in From sends anyway
    response = client.post(
        "/bulk/new/message/",
        {
            "channel": "whatsapp",
            "sender": numbers[0],
            "also_from": [numbers[1]],
            "kind": "text",
            "text": "Hi",
            "action": "next",
        },
    )
    assert response.status_code == 302
    preview = client.get("/bulk/new/preview/").content.decode()
    assert sending_from(preview) == [business_numbers.label(n) for n in numbers]
    response = client.post("/bulk/new/preview/", {"expected": 1, "start_key": "k-several-numbers"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = queries.get_job(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert job.sending_from == numbers
    assert sending_from(client.get(response["Location"]).content.decode()) == [
        business_numbers.label(n) for n in numbers
    ]


def sending_from(page: str) -> list[str]:
    """The business numbers a page names in "Channel, from", in order, as the page shows them."""
    return re.findall(r'<span class="sender-name" title="[^"]+">([^<]+)</span>', page)


def test_the_same_numbers_written_two_ways_are_the_same_start(client, operator, make_contacts, numbers, monkeypatch):
    monkeypatch.setattr(sending.send_chunk, "apply_async", lambda args, queue: None)
    client.force_login(operator)
    contacts = make_contacts(3, in_window=True)
    key = {"HTTP_IDEMPOTENCY_KEY": "several-numbers-same-start"}
    first = client.post(
        "/api/bulk/jobs", job_body(contacts, sender=numbers[0], senders=[numbers[1]]), content_type=JSON, **key
    )
    again = client.post("/api/bulk/jobs", job_body(contacts, senders=numbers), content_type=JSON, **key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["jobId"] == first.json()["jobId"]
