"""How many DynamoDB requests a draft costs, counted at the process's DynamoDB client for one draft
through the real path (message recorded by the inbound path, the task run as Celery runs it, moto and
the Bedrock fake over HTTP), so a read nobody needs cannot creep back. docs/design/agent.md,
"The pipeline"; the throughput this buys is in bench/README.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ai import agent_settings
from ai.pipeline.task import draft_reply
from ai.pipeline.wiring import on_inbound
from ai.tests.pipeline_fixtures import write
from messaging.conversation_index import key_for_whatsapp
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import ALL_MODELS, models_client

pytestmark = pytest.mark.django_db

# Per draft of a text in an open window, no persona chosen: one read of the switch, the message and
# its conversation; the consent history; the claim; one read of the contact and its lead; the
# conversation again after Bedrock (did it move on meanwhile?); the draft; the BEDROCK# summary.
# A chosen persona adds one Query (its newest version).
DRAFT_REQUESTS = {"BatchGetItem": 2, "Query": 1, "PutItem": 2, "GetItem": 1, "UpdateItem": 1}


@contextmanager
def counted() -> Iterator[Counter]:
    """The DynamoDB operations made inside the block, on the process's models client and on every
    client a model's connection already holds: a test that rebuilds the shared clients (the Bedrock
    timeout test does) leaves the models it ran before on the previous one."""
    seen: Counter = Counter()

    def count(model: Any, **_: Any) -> None:
        seen[model.name] += 1

    clients = [models_client()] + [m._get_connection().connection.client for m in ALL_MODELS]
    emitters = list({id(c.meta.events): c.meta.events for c in clients}.values())
    for events in emitters:
        events.register("before-call.dynamodb", count, unique_id="ai-request-count")
    try:
        yield seen
    finally:
        for events in emitters:
            events.unregister("before-call.dynamodb", unique_id="ai-request-count")


def test_a_draft_costs_the_requests_it_needs_and_no_more(admin_user, fake_aws_clean, new_phone):
    wamid = write(new_phone(), "How much is the summer offer?")  # recorded with automation off: no draft yet
    conversation = key_for_whatsapp(WaMessage.get(WaMessage.key(wamid)).conversationPk)
    agent_settings.forget_switch()
    with counted() as listener:  # the listener's only request: the switch (off, so nothing queued)
        on_inbound(event={"waMessageId": wamid}, conversation=conversation)
    assert dict(listener) == {"GetItem": 1}
    with counted() as again:  # read a moment ago: the next inbound message costs no request
        on_inbound(event={"waMessageId": wamid}, conversation=conversation)
    assert dict(again) == {}

    agent_settings.set_automation(True, user=admin_user)
    try:
        with counted() as draft:
            assert draft_reply.apply(args=[wamid, conversation], throw=True).get() == "pending"
    finally:
        agent_settings.set_automation(False, user=admin_user)
    assert dict(draft) == DRAFT_REQUESTS


def test_the_listener_goes_by_a_switch_read_a_few_seconds_ago_at_most(admin_user):
    agent_settings.forget_switch()
    assert not agent_settings.automation_on_lately()
    # Another process turns automation on (written as _change writes it, without this process hearing).
    stored = agent_settings.current()
    stored.automation, stored.version = True, stored.version + 1
    stored.save()
    try:
        assert not agent_settings.automation_on_lately()  # as read a moment ago
        seen_at, seen = agent_settings._switch_seen  # type: ignore[misc]
        agent_settings._switch_seen = (seen_at - agent_settings.SWITCH_MAX_AGE_SECONDS - 0.1, seen)
        assert agent_settings.automation_on_lately()  # older than the bound: read again
        agent_settings.set_automation(False, user=admin_user)  # a change in this process: at once
        assert not agent_settings.automation_on_lately()
    finally:
        agent_settings.set_automation(False, user=admin_user)
