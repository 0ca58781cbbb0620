"""The DLQ admin page: counts that agree with what is parked, the error rather than the raw
payload, pages of 50; and the audit log's long values wrap."""

from __future__ import annotations

import re

import pytest

from wecare import dlq
from wecare.tests.test_dlq import _drain

pytestmark = pytest.mark.django_db
PAGE = "/admin/dynamo/dlq/"


@pytest.fixture(autouse=True)
def empty_dlq():
    def empty() -> None:
        _drain("default-dlq")
        for item in dlq.records("default-dlq"):
            item.delete()

    empty()
    yield
    empty()


def park(n: int) -> None:
    for i in range(n):
        dlq.park(
            work_queue="default",
            task="wecare.tests.flaky",
            args=[f"job-{i}", "x" * 300],
            kwargs={},
            error=f"RuntimeError: the provider said no to job-{i}",
        )


def section(page: str) -> str:
    return page.split('id="queue-default-dlq"')[1].split("</section>")[0]


def test_the_page_counts_what_is_parked_shows_the_error_and_pages_by_fifty(client_for, admin_user):
    park(60)
    client = client_for(admin_user)
    page = section(client.get(PAGE).content.decode())
    assert "default-dlq — 60 parked, 60 messages on the queue to replay" in page
    assert page.count("<tr data-record=") == 50
    assert "RuntimeError: the provider said no to job-59" in page  # newest first
    assert '<span class="dlq-error">' in page and "<details><summary>Payload</summary>" in page
    older = re.search(r'href="(\?queue=default-dlq&amp;cursor=[^"#]+)', page).group(1).replace("&amp;", "&")
    second = section(client.get(PAGE + older).content.decode())
    assert second.count("<tr data-record=") == 10 and "job-0" in second and "job-59" not in second
    assert "Older records" not in second and "Newest records" in second
    assert client.get(PAGE + "?queue=default-dlq&cursor=forged").status_code == 302


def test_records_whose_messages_left_the_queue_are_explained_and_the_local_stack_puts_them_back(client_for, admin_user):
    park(3)
    _drain("default-dlq")  # what a local stack restart did: the records stayed, the queue lost them
    page = section(client_for(admin_user).get(PAGE).content.decode())
    assert "3 parked, 0 messages on the queue" in page and 'class="help dlq-mismatch"' in page
    assert dlq.requeue_records() >= 3
    assert dlq.depth("default-dlq") == 3
    page = section(client_for(admin_user).get(PAGE).content.decode())
    assert "3 parked, 3 messages on the queue" in page and "dlq-mismatch" not in page


def test_the_audit_log_wraps_long_values(client_for, admin_user):
    page = client_for(admin_user).get("/admin/dynamo/audit/").content.decode()
    assert '<table class="wraps audit-entries">' in page and "admin-forms.css" in page
