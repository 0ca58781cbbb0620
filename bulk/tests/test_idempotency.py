"""Idempotent job starts: the same start sent twice (a retry, a double click, two at once) makes
one job; the same key with another payload is 409."""

from __future__ import annotations

import json
from functools import partial

import pytest
from django.test import Client

from bulk.models import BulkJob
from wecare.tests.at_once import at_once
from wecare.tests.naming import unique_name

from .test_pages import make_contacts as create_contacts
from .test_pages import walk_to_preview

pytestmark = pytest.mark.django_db(transaction=True)


def body(contacts, text: str = "Hi") -> str:
    return json.dumps(
        {"audience": {"contactIds": [c.contactId for c in contacts]}, "channel": "sms", "message": {"text": text}}
    )


def jobs_for(key: str) -> list[str]:
    return [job.jobId for job in BulkJob.scan(BulkJob.idempotencyKey == key, consistent_read=True)]


def test_a_retried_start_returns_the_same_job(client, operator, make_contacts):
    client.force_login(operator)
    contacts = make_contacts(3)
    first = client.post(
        "/api/bulk/jobs", body(contacts), content_type="application/json", headers={"Idempotency-Key": "retry-1"}
    )
    second = client.post(
        "/api/bulk/jobs", body(contacts), content_type="application/json", headers={"Idempotency-Key": "retry-1"}
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["jobId"] == second.json()["jobId"]
    assert jobs_for("retry-1") == [first.json()["jobId"]]
    # No key: a new job each time (the same people again, so the repeat is confirmed: bulk/repeats.py)
    again = {**json.loads(body(contacts)), "confirmRepeat": True}
    without = client.post("/api/bulk/jobs", again, content_type="application/json")
    assert without.status_code == 201 and without.json()["jobId"] != first.json()["jobId"]


def test_two_identical_starts_at_once_make_one_job(operator, make_contacts):
    contacts = make_contacts(3)
    clients = [Client(), Client()]
    for client in clients:  # logged in first: the race under test is the two starts, not two logins
        client.force_login(operator)

    def post(client: Client):
        return client.post(
            "/api/bulk/jobs", body(contacts), content_type="application/json", headers={"Idempotency-Key": "race-1"}
        )

    results = at_once(*[partial(post, client) for client in clients])
    assert sorted(r.status_code for r in results) == [200, 201]
    assert len({r.json()["jobId"] for r in results}) == 1
    assert len(jobs_for("race-1")) == 1


def test_the_same_key_with_another_payload_is_a_conflict(client, operator, make_contacts):
    client.force_login(operator)
    contacts = make_contacts(2)
    first = client.post(
        "/api/bulk/jobs", body(contacts), content_type="application/json", headers={"Idempotency-Key": "reuse-1"}
    )
    other = client.post(
        "/api/bulk/jobs",
        body(contacts, text="Something else"),
        content_type="application/json",
        headers={"Idempotency-Key": "reuse-1"},
    )
    assert other.status_code == 409
    assert f"already started job {first.json()['jobId']} with a different" in other.json()["detail"]
    assert len(jobs_for("reuse-1")) == 1


def test_a_malformed_key_is_refused(client, operator, make_contacts):
    client.force_login(operator)
    response = client.post(
        "/api/bulk/jobs",
        body(make_contacts(1)),
        content_type="application/json",
        headers={"Idempotency-Key": "has spaces"},
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in json.dumps(response.json())


def at_preview(client_for, operator, new_phone, name: str):
    """An operator's wizard at its preview of 2 opted-in contacts: the client, and the wizard's start key."""
    name = unique_name(name)
    create_contacts(operator, new_phone, name, 2, optInSms=True)
    client = client_for(operator)
    page = walk_to_preview(client, search=name).content.decode()
    return client, page.split('name="start_key" value="')[1].split('"')[0]


def test_the_wizards_double_submit_makes_one_job(client_for, operator, new_phone):
    client, key = at_preview(client_for, operator, new_phone, "Double Dora")
    form = {"expected": "2", "start_key": key}
    first = client.post("/bulk/new/preview/", form)
    second = client.post("/bulk/new/preview/", form)  # the first cleared the wizard; the key finds its job
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] and first["Location"].startswith("/bulk/01")
    assert len(jobs_for(key)) == 1


def test_two_wizard_submits_at_once_make_one_job(client_for, operator, new_phone):
    client, key = at_preview(client_for, operator, new_phone, "Twin Tia")
    session_cookie = client.cookies

    def post():
        twin = Client()
        twin.cookies = session_cookie  # the same browser session, as a double click sends it
        return twin.post("/bulk/new/preview/", {"expected": "2", "start_key": key})

    results = at_once(post, post)
    assert [r.status_code for r in results] == [302, 302]
    assert results[0]["Location"] == results[1]["Location"]
    assert len(jobs_for(key)) == 1


def test_a_start_whose_twin_wrote_the_job_while_it_evaluated_answers_that_job(
    client, operator, make_contacts, monkeypatch
):
    """The twin of a double click checks its key, finds nothing yet, and evaluates; meanwhile the
    first start writes the job and it sends (eagerly here). The twin's evaluation then sees that job's
    messages as a repeat: its answer must be the first job, not a warning about its own click."""
    from bulk import actions

    client.force_login(operator)
    contacts = make_contacts(3)
    evaluate = actions._evaluate
    twin_first: list[int] = []
    inside = []

    def first_start_wins_meanwhile(*args, **kwargs):
        if not inside:  # the twin's evaluation: the first start runs to its end in its middle
            inside.append(True)
            first = client.post(
                "/api/bulk/jobs", body(contacts), content_type="application/json", headers={"Idempotency-Key": "twin-1"}
            )
            twin_first.append(first.status_code)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(actions, "_evaluate", first_start_wins_meanwhile)
    twin = client.post(
        "/api/bulk/jobs", body(contacts), content_type="application/json", headers={"Idempotency-Key": "twin-1"}
    )
    assert twin_first == [201]
    assert twin.status_code == 200, twin.content  # found, not a 422 "sent already"
    assert jobs_for("twin-1") == [twin.json()["jobId"]]
