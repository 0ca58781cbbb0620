"""Critical-error alerts (wecare/alerts.py): one per kind and subject per period however many
raise it at once, repeats counted on it, published to the topic (read back from moto's SNS through
a subscribed SQS queue), stored when publishing fails; the alert a provider's refusal of our
credentials raises (the local fake's fault injection); the Alerts page and its acknowledgement.

moto keeps data for the whole session: every test raises alerts of its own subjects."""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta

import pytest

from ai.bedrock import calls as bedrock
from messaging.outbound import senders
from wecare.alerts import SOURCE, Kind, Outcome, marker_key, raise_alert, record
from wecare.alerts_queries import current
from wecare.dynamo import now
from wecare.models import AlertMarker, AuditLog
from wecare.tests.alert_queue import subscribed
from wecare.tests.at_once import at_once

pytestmark = pytest.mark.django_db


def new_subject() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def published(settings):
    """The alerts published to the alerts topic for a subject."""
    with subscribed(settings.ALERTS_TOPIC_ARN) as read:
        seen: list[dict] = []

        def for_subject(subject: str) -> list[dict]:
            seen.extend(read())
            return [m for m in seen if m.get("subject") == subject]

        yield for_subject


def test_concurrent_raises_publish_one_alert_and_count_every_one(published, settings):
    settings.SITE_URL = "https://app.example.com"
    queue = new_subject()
    results = at_once(*[lambda: raise_alert(Kind.DLQ_PARKED, queue, "a task parked", link="/admin/dynamo/dlq/")] * 8)
    assert sorted(results) == [False] * 7 + [True]
    alert = current(Kind.DLQ_PARKED, queue)
    assert alert is not None and alert.occurrences == 8 and alert.publishedAt is not None
    [message] = published(queue)
    assert message["source"] == SOURCE
    assert (message["kind"], message["summary"], message["count"]) == ("dlq.parked", "a task parked", 1)
    assert message["link"] == "https://app.example.com/admin/dynamo/dlq/"  # absolute: opened from an email
    assert message["alertId"] == alert.alertId and message["firstSeen"] == alert.firstSeen.isoformat()


def test_a_raise_after_the_period_opens_a_new_alert(published, settings):
    settings.ALERT_REPEAT_MINUTES = 60
    job, t = new_subject(), now()
    assert record(Kind.JOB_FAILED, job, "first", at=t) is Outcome.PUBLISHED
    assert record(Kind.JOB_FAILED, job, "again", at=t + timedelta(minutes=30)) is Outcome.REPEATED
    first = current(Kind.JOB_FAILED, job)
    assert first is not None
    assert (first.occurrences, first.summary, first.firstSeen, first.lastSeen) == (
        2,
        "again",  # the latest words; the page says "2 times since" the first
        t,
        t + timedelta(minutes=30),
    )
    assert record(Kind.JOB_FAILED, job, "later", at=t + timedelta(minutes=61)) is Outcome.PUBLISHED
    second = current(Kind.JOB_FAILED, job)
    assert second is not None and second.alertId != first.alertId and second.occurrences == 1
    assert [m["summary"] for m in published(job)] == ["first", "later"]


def test_an_alert_that_cannot_be_published_is_stored_and_a_later_raise_publishes_it(published, settings, caplog):
    service, t = new_subject(), now()
    topic = settings.ALERTS_TOPIC_ARN
    settings.ALERTS_TOPIC_ARN = f"{topic}-missing"
    assert record(Kind.PROVIDER_AUTH, service, "refused", at=t) is Outcome.UNPUBLISHED
    stored = current(Kind.PROVIDER_AUTH, service)
    assert stored is not None and stored.publishedAt is None and "NotFound" in (stored.publishError or "")
    assert "alert not published" in caplog.text
    settings.ALERTS_TOPIC_ARN = topic
    # While it stays unpublished, a repeat tries again, at most once a minute.
    assert record(Kind.PROVIDER_AUTH, service, "refused", at=t + timedelta(seconds=30)) is Outcome.UNPUBLISHED
    assert record(Kind.PROVIDER_AUTH, service, "refused", at=t + timedelta(minutes=2)) is Outcome.PUBLISHED
    again = current(Kind.PROVIDER_AUTH, service)
    assert again is not None and again.alertId == stored.alertId
    assert (again.occurrences, again.publishError) == (3, None) and again.publishedAt is not None
    [message] = published(service)
    assert message["count"] == 3


def _new_period(kind: Kind, subject: str) -> None:
    """Forget the period of a kind and subject whose subject a test cannot choose (a service's
    name): another test in this process may have raised it, and moto keeps data for the session."""
    with contextlib.suppress(AlertMarker.DoesNotExist):
        AlertMarker.get(marker_key(kind, subject), consistent_read=True).delete()


def test_a_provider_refusing_our_credentials_raises_an_alert_and_other_refusals_do_not(settings, fake_aws_clean):
    settings.SEND_MODE = "LIVE"
    _new_period(Kind.PROVIDER_AUTH, "socialmessaging")
    _new_period(Kind.PROVIDER_AUTH, "bedrock")
    started = now()
    out = senders.Outbound(
        message_id=str(uuid.uuid4()),
        channel="whatsapp",
        sender=settings.WHATSAPP_PHONE_NUMBER_IDS[0],
        to="+14155550100",
        text="hi",
    )
    fake_aws_clean.fail("SendWhatsAppMessage", "ValidationException", message="(#131026) undeliverable")
    with pytest.raises(senders.SendError):
        senders.deliver(out)
    before = current(Kind.PROVIDER_AUTH, "socialmessaging")
    assert before is None or before.lastSeen < started  # a refused message is no credentials problem
    fake_aws_clean.fail("SendWhatsAppMessage", "AccessDeniedException", message="not authorized to send")
    with pytest.raises(senders.SendError):
        senders.deliver(out)
    alert = current(Kind.PROVIDER_AUTH, "socialmessaging")
    assert alert is not None and alert.lastSeen >= started
    assert "AccessDeniedException" in alert.summary and "not authorized to send" in alert.summary
    assert alert.link == "/alerts/?kind=provider.auth"
    fake_aws_clean.fail("Retrieve", "AccessDeniedException", message="no access to the knowledge base")
    with pytest.raises(bedrock.BedrockRefused):
        bedrock.retrieve("opening hours", knowledge_base_id=settings.BEDROCK_KB_ID)
    alert = current(Kind.PROVIDER_AUTH, "bedrock")
    assert alert is not None and alert.lastSeen >= started and "no access to the knowledge base" in alert.summary


def test_the_alerts_page_lists_newest_first_filters_and_acknowledges_with_an_audit_entry(client_for, operator, viewer):
    older, newer = new_subject(), new_subject()
    raise_alert(Kind.JOB_FAILED, older, "the older job failed", link="/bulk/")
    raise_alert(Kind.JOB_FAILED, newer, "the newer job failed")
    raise_alert(Kind.TIER_USE, older, "a tier alert of the same subject")
    web = client_for(operator)
    html = web.get("/alerts/?kind=bulk.job").content.decode()
    assert html.index(newer) < html.index(older)  # newest first
    assert "the older job failed" in html and 'href="/bulk/"' in html
    assert "a tier alert of the same subject" not in html  # another kind
    assert "a tier alert of the same subject" in web.get("/alerts/").content.decode()

    alert = current(Kind.JOB_FAILED, older)
    assert alert is not None
    response = web.post(f"/alerts/{alert.alertId}/acknowledge/", {"kind": "bulk.job", "state": "open"})
    assert response.status_code == 302 and response["Location"] == "/alerts/?kind=bulk.job&state=open"
    acknowledged = current(Kind.JOB_FAILED, older)
    assert acknowledged is not None and acknowledged.acknowledgedBy == operator.username
    entries = AuditLog.by_day.query(now().strftime("%Y-%m-%d"), filter_condition=AuditLog.resourceId == alert.alertId)
    assert [(e.action, e.userId, e.details["subject"]) for e in entries] == [
        ("alert.acknowledge", operator.username, older)
    ]
    assert "the older job failed" not in web.get("/alerts/?kind=bulk.job&state=open").content.decode()
    assert "the older job failed" in web.get("/alerts/?kind=bulk.job&state=acknowledged").content.decode()

    again = web.post(f"/alerts/{alert.alertId}/acknowledge/", follow=True).content.decode()
    assert f"{operator.username} acknowledged this alert already." in again
    assert "No such alert." in web.post("/alerts/marker%23bulk.job/acknowledge/", follow=True).content.decode()
    assert "No such alert." in web.post(f"/alerts/{'0' * 26}/acknowledge/", follow=True).content.decode()

    # Operators and admins: a viewer neither opens the page nor sees it in the sidebar.
    assert 'href="/alerts/"' in web.get("/contacts/").content.decode()
    assert client_for(viewer).get("/alerts/").status_code == 403
    assert 'href="/alerts/"' not in client_for(viewer).get("/contacts/").content.decode()


def test_an_alert_links_only_to_a_page_its_reader_may_open(client_for, operator, admin_user):
    """A parked task's alert links to the admin's DLQ page: an admin gets the link, an operator
    (who would only be refused there) is told an admin opens it."""
    subject = new_subject()
    raise_alert(Kind.DLQ_PARKED, subject, f"{subject} was parked", link="/admin/dynamo/dlq/")
    raise_alert(Kind.JOB_FAILED, subject, f"{subject} failed", link="/bulk/")
    raise_alert(Kind.TIER_USE, subject, f"{subject} links nowhere known", link="/no/such/page/")

    def row(html: str, summary: str) -> str:
        start = html.index(summary)
        return html[start : html.index("</td>", start)]

    as_operator = client_for(operator).get("/alerts/").content.decode()
    parked = row(as_operator, f"{subject} was parked")
    assert 'href="/admin/dynamo/dlq/"' not in parked and "an admin can open its page" in parked
    assert 'href="/bulk/"' in row(as_operator, f"{subject} failed")
    assert "href=" not in row(as_operator, f"{subject} links nowhere known")
    as_admin = client_for(admin_user).get("/alerts/").content.decode()
    assert 'href="/admin/dynamo/dlq/"' in row(as_admin, f"{subject} was parked")
