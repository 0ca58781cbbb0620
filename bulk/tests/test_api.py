"""/api/bulk: who may do what, the confirmation rule over HTTP, 409 on an illegal transition."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def body(contacts, **extra) -> str:
    return json.dumps(
        {
            "audience": {"contactIds": [c.contactId for c in contacts]},
            "channel": "sms",
            "message": {"text": "Hi"},
            **extra,
        }
    )


def test_a_viewer_watches_but_cannot_preview_start_or_control(client, viewer, make_contacts):
    client.force_login(viewer)
    contacts = make_contacts(2)
    assert client.post("/api/bulk/jobs/preview", body(contacts), content_type="application/json").status_code == 403
    assert client.post("/api/bulk/jobs", body(contacts), content_type="application/json").status_code == 403
    assert (
        client.put(
            "/api/bulk/jobs/01NOTAREAL", json.dumps({"action": "pause"}), content_type="application/json"
        ).status_code
        == 403
    )
    assert client.get("/api/bulk/jobs").status_code == 200


def test_an_operator_previews_then_confirms_the_count(client, operator, make_contacts, live_fake):
    client.force_login(operator)
    contacts = make_contacts(21)
    preview = client.post("/api/bulk/jobs/preview", body(contacts), content_type="application/json")
    assert preview.status_code == 200
    assert (preview.json()["sendable"], preview.json()["needsConfirmation"]) == (21, True)

    refused = client.post("/api/bulk/jobs", body(contacts), content_type="application/json")
    assert refused.status_code == 422
    assert "confirm=true and previewedCount=21" in refused.json()["detail"][0]["msg"]

    started = client.post(
        "/api/bulk/jobs", body(contacts, confirm=True, previewedCount=21), content_type="application/json"
    )
    assert started.status_code == 201
    job_id = started.json()["jobId"]
    job = client.get(f"/api/bulk/jobs/{job_id}").json()  # eager: the chunks ran during the POST
    assert (job["status"], job["progress"]["sent"], job["progress"]["pending"]) == ("completed", 21, 0)
    # The app's own route, which streams the report past the role check; never a presigned link.
    assert job["reportUrl"] == f"http://testserver/api/bulk/jobs/{job_id}/report.csv"
    assert client.get(f"/api/bulk/jobs/{job_id}/recipients").json()["items"][0]["status"] == "sent"

    conflict = client.put(f"/api/bulk/jobs/{job_id}", json.dumps({"action": "pause"}), content_type="application/json")
    assert conflict.status_code == 409
    assert "completed" in conflict.json()["detail"]


def test_an_unknown_job_is_404(client, viewer):
    client.force_login(viewer)
    assert client.get("/api/bulk/jobs/01NOSUCHJOB").status_code == 404


def test_the_report_url_streams_the_csv_to_a_viewer_and_to_nobody_else(
    client, operator, viewer, make_contacts, live_fake
):
    client.force_login(operator)
    started = client.post("/api/bulk/jobs", body(make_contacts(2)), content_type="application/json")
    report_url = client.get(f"/api/bulk/jobs/{started.json()['jobId']}").json()["reportUrl"]

    client.force_login(viewer)
    report = client.get(report_url)
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    rows = b"".join(report.streaming_content).decode().splitlines()
    assert rows[0].startswith("row,recipient,contactId,status") and len(rows) == 3

    client.logout()
    assert client.get(report_url).status_code == 401


def test_the_report_of_an_unknown_job_is_404(client, viewer):
    client.force_login(viewer)
    assert client.get("/api/bulk/jobs/01NOSUCHJOB/report.csv").status_code == 404


def test_a_csv_audience_the_csv_module_cannot_read_is_a_422_naming_the_line(client, operator):
    client.force_login(operator)
    audience = {"csv": 'phone\n"+14155550123\n' + "9" * 140_000 + "\n"}
    response = client.post(
        "/api/bulk/jobs/preview",
        json.dumps({"audience": audience, "channel": "sms", "message": {"text": "Hi"}}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "line 2: a cell is longer than 131,072 characters" in json.dumps(response.json())
