"""The inbox composer announces what became of a reply (messaging/signals.py: reply_sending,
reply_sent, reply_refused, reply_failed) with the ``origin`` its hidden field carried, so an app
that filled the box (the AI's Use) learns it without messaging importing the app; and an app may
ask the person to confirm before the send (reply_check)."""

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
    for name in ("reply_sending", "reply_sent", "reply_refused", "reply_failed"):

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
    assert sending["attempt"] and sent["attempt"] == sending["attempt"]  # one id per send
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


def test_a_send_that_crashes_is_announced_as_failed_and_still_raised(
    client_for, operator, new_phone, heard, monkeypatch
):
    contact = customer(operator, new_phone)
    key = f"whatsapp~{inbox_queries.slug(inbox_data.conversation(contact.phone).pk)}"

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")  # after the message was written: no local stand-in fails so

    monkeypatch.setattr("messaging.outbound.send.send_outbound.apply_async", refuse)
    user = client_for(operator)
    user.raise_request_exception = False
    response = user.post(f"/dm/{key}/reply/", {"kind": "text", "text": "Hi", "origin": "test:9", "action": "send"})
    assert response.status_code == 500
    assert [name for name, _ in heard] == ["reply_sending", "reply_failed"]
    failed = heard[1][1]
    assert failed["origin"] == "test:9" and "ConnectionError" in failed["reason"]
    assert failed["attempt"] == heard[0][1]["attempt"]


def test_a_listeners_warning_is_asked_before_sending_and_a_confirmed_send_goes(client_for, operator, new_phone, heard):
    contact = customer(operator, new_phone)
    key = f"whatsapp~{inbox_queries.slug(inbox_data.conversation(contact.phone).pk)}"

    def warn(sender: Any, *, origin: str, **_: Any) -> str | None:
        return "Priya already sent this; send anyway?" if origin == "test:dup" else None

    signals.reply_check.connect(warn, weak=False)
    try:
        reply = {"kind": "text", "text": "Ready at 5", "origin": "test:dup", "action": "send"}
        asked = client_for(operator).post(f"/dm/{key}/reply/", reply)
        html = asked.content.decode()
        assert asked.status_code == 422 and "Priya already sent this; send anyway?" in html
        assert 'name="confirm"' in html and 'name="origin" value="test:dup"' in html
        assert heard == []  # nothing was sent
        assert client_for(operator).post(f"/dm/{key}/reply/", {**reply, "confirm": "1"}).status_code == 200
        assert [name for name, _ in heard] == ["reply_sending", "reply_sent"]
    finally:
        signals.reply_check.disconnect(warn)
