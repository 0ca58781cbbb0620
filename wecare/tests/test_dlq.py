"""Dead-letter parking and replay (wecare/dlq.py) against SQS and DynamoDB on the moto server."""

from __future__ import annotations

import json

import pytest
from celery import shared_task
from django.core.management import call_command

from wecare import alerts_queries, aws, dlq
from wecare.alerts import Kind
from wecare.celery import app
from wecare.dynamo import now
from wecare.models import AuditLog, DLQMessage

pytestmark = pytest.mark.django_db

ATTEMPTS: dict[str, int] = {}
FAIL_UNTIL: dict[str, int] = {}  # key -> succeed from this attempt number on (0 = always fail)


@shared_task(base=dlq.DeadLetterTask, name="wecare.tests.flaky", retry_backoff=False)  # routed to "default"
def flaky(key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    until = FAIL_UNTIL.get(key, 0)
    if until == 0 or ATTEMPTS[key] < until:
        raise RuntimeError(f"flaky {key} attempt {ATTEMPTS[key]}")
    return "done"


@pytest.fixture(autouse=True)
def empty_dlq():
    _drain("default-dlq")
    for item in dlq.records("default-dlq"):
        item.delete()
    ATTEMPTS.clear()
    FAIL_UNTIL.clear()


def _drain(queue: str) -> None:
    # PurgeQueue is allowed once a minute; receive-and-delete is not limited.
    sqs = aws.client("sqs")
    while found := sqs.receive_message(QueueUrl=dlq._url(queue), MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    ):
        for message in found:
            sqs.delete_message(QueueUrl=dlq._url(queue), ReceiptHandle=message["ReceiptHandle"])


def _bodies() -> list[dict]:
    sqs = aws.client("sqs")
    found = sqs.receive_message(QueueUrl=dlq._url("default-dlq"), MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in found]


def test_a_task_that_keeps_failing_is_retried_then_parked_with_a_record():
    result = flaky.delay("a")
    assert result.failed()
    assert ATTEMPTS["a"] == 1 + flaky.max_retries  # first try + 3 retries
    (body,) = _bodies()
    assert (body["task"], body["args"], body["kwargs"]) == ("wecare.tests.flaky", ["a"], {})
    (item,) = dlq.records("default-dlq")
    assert item.dlqMessageId == body["dlqMessageId"]
    assert item.retryCount == 0 and "RuntimeError: flaky a attempt 4" in item.payload
    assert dlq.depth("default-dlq") == 1


@shared_task(base=dlq.DeadLetterTask, name="wecare.tests.hopeless")
def hopeless(key: str) -> None:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    raise dlq.PermanentError(f"{key} can never work")


def test_a_permanent_error_is_parked_at_once_without_retries():
    hopeless.delay("p")
    assert ATTEMPTS["p"] == 1
    (body,) = _bodies()
    assert body["task"] == "wecare.tests.hopeless" and "PermanentError: p can never work" in body["error"]


def test_a_parked_task_raises_the_dead_letter_alert_linking_to_the_dlq_page():
    started = now()
    hopeless.delay("alerted")
    alert = alerts_queries.current(Kind.DLQ_PARKED, "default-dlq")
    assert alert is not None and alert.lastSeen >= started  # this park raised it (or counted on it)
    assert "wecare.tests.hopeless" in alert.summary and "alerted can never work" in alert.summary
    assert alert.link == "/admin/dynamo/dlq/"


def test_a_task_that_recovers_within_its_retries_is_not_parked():
    FAIL_UNTIL["b"] = 3
    assert flaky.delay("b").successful()
    assert ATTEMPTS["b"] == 3
    assert dlq.depth("default-dlq") == 0 and dlq.records("default-dlq") == []


def test_replay_runs_the_task_again_and_removes_it_on_success():
    flaky.delay("c")
    FAIL_UNTIL["c"] = ATTEMPTS["c"] + 1  # the next attempt succeeds
    report = dlq.replay("default-dlq")
    assert (report.replayed, report.failed, report.duplicates, report.refused) == (1, 0, 0, [])
    assert ATTEMPTS["c"] == 5  # one replay attempt, not another round of retries
    assert dlq.depth("default-dlq") == 0 and dlq.records("default-dlq") == []


def test_a_failed_replay_returns_to_the_dlq_counted_and_is_refused_after_five():
    flaky.delay("d")
    for expected in range(1, dlq.MAX_REPLAYS + 1):
        report = dlq.replay("default-dlq")
        assert (report.replayed, report.failed) == (0, 1)
        (item,) = dlq.records("default-dlq")
        assert item.retryCount == expected
        assert dlq.depth("default-dlq") == 1
    attempts = ATTEMPTS["d"]
    report = dlq.replay("default-dlq")
    assert report.refused == [item.dlqMessageId] and report.failed == 0
    assert ATTEMPTS["d"] == attempts  # refused: not run again
    assert "refused 1 after 5 replays" in report.summary()
    assert dlq.depth("default-dlq") == 1  # left for a person


def test_the_same_work_parked_twice_replays_once():
    flaky.delay("e")
    flaky.delay("e")
    assert dlq.depth("default-dlq") == 2
    FAIL_UNTIL["e"] = ATTEMPTS["e"] + 1
    report = dlq.replay("default-dlq")
    assert (report.replayed, report.duplicates) == (1, 1)
    assert dlq.depth("default-dlq") == 0 and dlq.records("default-dlq") == []


def test_a_raw_celery_message_moved_by_the_redrive_policy_is_replayed():
    """SQS moves a message a worker kept dying on to the DLQ unchanged: replay reads kombu's format."""
    sqs = aws.client("sqs")
    work_url = dlq._url("default")
    _drain("default")
    app.conf.task_always_eager = False
    try:
        flaky.delay("f")  # published to SQS for real; no worker consumes "default" in this test
    finally:
        app.conf.task_always_eager = True
    (raw,) = sqs.receive_message(QueueUrl=work_url, MaxNumberOfMessages=1, WaitTimeSeconds=1)["Messages"]
    sqs.send_message(QueueUrl=dlq._url("default-dlq"), MessageBody=raw["Body"])  # what the redrive does
    sqs.delete_message(QueueUrl=work_url, ReceiptHandle=raw["ReceiptHandle"])
    FAIL_UNTIL["f"] = 1
    report = dlq.replay("default-dlq")
    assert report.replayed == 1 and ATTEMPTS["f"] == 1
    assert dlq.depth("default-dlq") == 0


def test_an_unreadable_message_is_left_in_place_and_reported():
    aws.client("sqs").send_message(QueueUrl=dlq._url("default-dlq"), MessageBody="not a task")
    report = dlq.replay("default-dlq")
    assert report.unreadable == 1 and dlq.depth("default-dlq") == 1


def test_replay_dlq_command_reports_audits_and_exits_nonzero_when_something_failed(capsys):
    flaky.delay("g")
    with pytest.raises(SystemExit) as exited:
        call_command("replay_dlq", "--queue", "default-dlq", "--max", "10")
    assert exited.value.code == 1
    assert "failed again 1" in capsys.readouterr().out
    FAIL_UNTIL["g"] = ATTEMPTS["g"] + 1
    call_command("replay_dlq", "--queue", "default-dlq")
    assert "replayed 1" in capsys.readouterr().out
    assert any(
        e.action == "dlq.replay" and e.resourceId == "default-dlq"
        for e in AuditLog.scan(AuditLog.action == "dlq.replay")
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--queue", "inbound-queue"], "unknown dead-letter queue 'inbound-queue'"),
        (["--max", "0"], "--max must be between 1 and 1000"),
    ],
)
def test_replay_dlq_command_refuses_bad_arguments_with_one_line(argv, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("replay_dlq", *argv)


def test_admin_dlq_page_shows_depth_and_replays(client_for, admin_user, operator):
    flaky.delay("h")
    FAIL_UNTIL["h"] = ATTEMPTS["h"] + 1
    admin = client_for(admin_user)
    page = admin.get("/admin/dynamo/dlq/")
    assert page.status_code == 200
    assert "default-dlq — 1 parked, 1 message on the queue to replay" in page.content.decode()
    done = admin.post("/admin/dynamo/dlq/", {"queue": "default-dlq", "max": "100"}, follow=True)
    assert "default-dlq: replayed 1" in done.content.decode().lower()  # the admin capitalises messages
    assert dlq.depth("default-dlq") == 0
    bad = admin.post("/admin/dynamo/dlq/", {"queue": "nope", "max": "5"}, follow=True)
    assert "choose one of default-dlq" in bad.content.decode().lower()
    assert client_for(operator).post("/admin/dynamo/dlq/", {"queue": "default-dlq"}).status_code == 403


def test_dlq_items_expire_after_a_week():
    flaky.delay("i")
    (item,) = dlq.records("default-dlq")
    assert isinstance(DLQMessage.get(item.dlqMessageId).expiresAt.timestamp(), float)
