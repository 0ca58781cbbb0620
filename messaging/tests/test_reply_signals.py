"""The inbox composer announces what became of a reply (messaging/signals.py: reply_sending,
reply_sent, reply_refused) with the ``origin`` its hidden field carried, so an app that filled
the box (the AI's Use) learns it without messaging importing the app."""

from __future__ import annotations

from typing import Any

import pytest

from messaging import signals
from messaging.inbox import queries as inbox_queries
from messaging.tests import inbox_data
from messaging.tests.test_inbox import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """Every reply signal announced during the test, as (name, kwargs)."""
    got: list[tuple[str, dict[str, Any]]] = []
    listeners = {}
    for name in ("reply_sending", "reply_sent", "reply_refused"):

        def listen(sender: Any, _name: str = name, **kwargs: Any) -> None:
            got.append((_name, kwargs))

        listeners[name] = listen
        getattr(signals, name).connect(listen, weak=False)
    yield got
    for name, listen in listeners.items():
        getattr(signals, name).disconnect(listen)


def test_a_sent_reply_is_announced_before_and_after_with_its_origin(client_for, operator, new_phone, heard):
    contact = customer(operator, new_phone)
    key = f"whatsapp~{inbox_queries.slug(inbox_data.conversation(contact.phone).pk)}"
    page = client_for(operator).get(f"/dm/{key}/").content.decode()
    assert 'name="origin" value="" data-composer-origin' in page  # the field an app fills

    response = client_for(operator).post(
        f"/dm/{key}/reply/", {"kind": "text", "text": "Ready at 5", "origin": "test:42", "action": "send"}
    )
    assert response.status_code == 200
    assert [name for name, _ in heard] == ["reply_sending", "reply_sent"]
    sending, sent = heard[0][1], heard[1][1]
    assert sending["conversation"] == key and sending["origin"] == "test:42" and sending["text"] == "Ready at 5"
    assert sent["message_id"] and sent["user"] == operator
    assert 'name="origin" value=""' in response.content.decode()  # a fresh composer names no origin


def test_a_refused_reply_is_announced_with_the_gates_reason_and_keeps_its_origin(
    client_for, operator, new_phone, heard
):
    contact = customer(operator, new_phone, opted_in=False)
    key = f"whatsapp~{inbox_queries.slug(inbox_data.conversation(contact.phone).pk)}"
    response = client_for(operator).post(
        f"/dm/{key}/reply/", {"kind": "text", "text": "Hi", "origin": "test:7", "action": "send"}
    )
    assert response.status_code == 422
    assert [name for name, _ in heard] == ["reply_sending", "reply_refused"]
    refused = heard[1][1]
    assert refused["origin"] == "test:7" and refused["code"] == "CONSENT_NEVER_GIVEN" and refused["reason"]
    assert 'name="origin" value="test:7"' in response.content.decode()  # a retry still names it


def test_an_invalid_form_announces_nothing(client_for, operator, new_phone, heard):
    contact = customer(operator, new_phone)
    key = f"whatsapp~{inbox_queries.slug(inbox_data.conversation(contact.phone).pk)}"
    client_for(operator).post(f"/dm/{key}/reply/", {"kind": "text", "text": " ", "origin": "test:1", "action": "send"})
    assert heard == []
