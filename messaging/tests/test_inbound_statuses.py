"""Delivery statuses from the status samples, applied to messages the outbound path recorded:
forward only, failed is final with Meta's error, each (message, status) once; a status that
overtakes our own send's record is retried (then parked), never dropped."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from celery.signals import task_prerun

from contacts import actions
from messaging.inbound.process import process_inbound_event
from messaging.inbound.statuses import RECORDING_GRACE, NotRecordedYet
from messaging.models import Message
from messaging.outbound import records
from messaging.outbound.senders import SendResult
from messaging.tests.inbound_samples import entry_of, inbound, new_wamid, status, with_entry
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare import dlq
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
NUMBER = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"


@dataclass
class Sending:
    """A WhatsApp message the outbound path has handed to the provider (it has its wamid) but
    not yet recorded as sent: the moment in which Meta's first status can overtake it."""

    wamid: str
    phone: str
    message: Message

    def record(self) -> None:
        records.mark_sent(self.message, SendResult(provider_message_id=self.wamid), to=self.phone)


@pytest.fixture
def new_sending(operator, new_phone) -> Callable[[], Sending]:
    def make() -> Sending:
        phone = new_phone()
        contact = actions.create_contact({"phone": phone, "optInWhatsApp": True}, user=operator, source="test")
        message = records.create_queued(
            contact=contact,
            channel="whatsapp",
            sender=NUMBER,
            content={"text": "Your order shipped"},
            template_name=None,
            created_by="test",
            dry_run=False,
        )
        assert records.claim(message)
        return Sending(wamid=new_wamid(), phone=phone, message=message)

    return make


@pytest.fixture
def sending(new_sending) -> Sending:
    return new_sending()


@pytest.fixture
def sent(new_sending):
    """A WhatsApp message recorded as sent by the outbound path (records.mark_sent)."""
    done = new_sending()
    done.record()
    return done.wamid, done.phone, done.message.messageId


@pytest.fixture
def runs():
    """Each run of messaging.process_inbound_event (first try and retries), in order; a test may
    set ``runs.before(n, fn)`` to do something just before run n (1-based)."""

    class Runs(list):
        hooks: dict[int, Callable[[], None]]

        def before(self, n: int, fn: Callable[[], None]) -> None:
            self.hooks[n] = fn

    seen = Runs()
    seen.hooks = {}

    def count(sender=None, **_):
        if sender is not None and sender.name == "messaging.process_inbound_event":
            seen.append(sender.request.retries)
            if hook := seen.hooks.get(len(seen)):
                hook()

    task_prerun.connect(count, weak=False)
    yield seen
    task_prerun.disconnect(count)


def parked(kwargs: dict) -> list:
    wanted = dlq.fingerprint("messaging.process_inbound_event", [], kwargs)
    return [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]


def deliver(name: str, wamid: str, phone: str, at: int | None = None) -> dict:
    return process_inbound_event.apply(
        kwargs={"message": status(name, wamid=wamid, phone=phone, at=at)}, throw=True
    ).result


def state(wamid: str, message_id: str) -> tuple[WaMessage, Message]:
    return WaMessage.get(WaMessage.key(wamid), consistent_read=True), Message.get(message_id, consistent_read=True)


def test_sent_delivered_read_move_both_records_forward_with_history(sent):
    wamid, phone, message_id = sent
    t = int(now().timestamp())
    # The send itself recorded "sent": Meta's "sent" confirms it (history), the others move it.
    expected = {"status_sent": "history-only", "status_delivered": "applied", "status_read": "applied"}
    for offset, (name, outcome) in enumerate(expected.items()):
        assert deliver(name, wamid, phone, at=t + offset)["statuses"] == {outcome: 1}
    wa, message = state(wamid, message_id)
    assert wa.deliveryStatus == message.status == "read"
    assert [h["status"] for h in wa.deliveryStatusHistory] == [
        "sent",
        "sent",
        "delivered",
        "read",
    ]  # the send's own, then Meta's
    assert [h.status for h in message.statusHistory][-3:] == ["sent", "delivered", "read"]


def test_a_late_delivered_never_moves_a_read_message_back(sent):
    wamid, phone, message_id = sent
    assert deliver("status_read", wamid, phone)["statuses"] == {"applied": 1}
    assert deliver("status_delivered", wamid, phone)["statuses"] == {"history-only": 1}
    assert deliver("status_sent", wamid, phone)["statuses"] == {"history-only": 1}
    wa, message = state(wamid, message_id)
    assert wa.deliveryStatus == message.status == "read"
    assert [h["status"] for h in wa.deliveryStatusHistory][-3:] == ["read", "delivered", "sent"]


def test_failed_is_final_and_carries_metas_error(sent):
    wamid, phone, message_id = sent
    deliver("status_delivered", wamid, phone)
    assert deliver("status_failed", wamid, phone)["statuses"] == {"applied": 1}
    assert deliver("status_read", wamid, phone)["statuses"] == {"history-only": 1}
    wa, message = state(wamid, message_id)
    assert wa.deliveryStatus == message.status == "failed"
    assert (wa.errorCode, wa.errorTitle) == (131047, "Re-engagement message")
    assert "more than 24 hours" in wa.errorDetails
    assert message.errorDetails["code"] == 131047 and message.errorDetails["title"] == "Re-engagement message"
    failed_entry = next(h for h in wa.deliveryStatusHistory if h["status"] == "failed")
    assert failed_entry["error"]["code"] == 131047
    assert wamid in [
        i.pk.removeprefix("MSG#") for i in WaMessage.delivery_status_index.query("failed")
    ]  # deliveryStatus-receivedAt-index finds it


def test_a_failed_delivery_is_counted_once_for_the_failure_rate_alarm(sent, capsys):
    wamid, phone, _message_id = sent
    capsys.readouterr()
    deliver("status_failed", wamid, phone)
    deliver("status_failed", wamid, phone)  # a duplicate: not counted again
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"MessagesDeliveryFailed"' in line]
    assert [(line["MessagesDeliveryFailed"], line["channel"]) for line in lines] == [(1, "whatsapp")]


def test_the_same_status_twice_is_applied_once(sent):
    wamid, phone, message_id = sent
    assert deliver("status_delivered", wamid, phone)["statuses"] == {"applied": 1}
    assert deliver("status_delivered", wamid, phone)["statuses"] == {"duplicate": 1}
    wa, message = state(wamid, message_id)
    assert [h["status"] for h in wa.deliveryStatusHistory].count("delivered") == 1
    assert [h.status for h in message.statusHistory].count("delivered") == 1


def test_deleted_and_warning_are_history_not_progress(sent):
    wamid, phone, message_id = sent
    deliver("status_delivered", wamid, phone)
    body = status("status_read", wamid=wamid, phone=phone).replace('\\"read\\"', '\\"deleted\\"')
    assert process_inbound_event.apply(kwargs={"message": body}, throw=True).result["statuses"] == {"history-only": 1}
    wa, _ = state(wamid, message_id)
    assert wa.deliveryStatus == "delivered" and wa.deliveryStatusHistory[-1]["status"] == "deleted"


def test_an_old_status_for_a_message_we_never_sent_is_skipped_quietly(fake_aws, new_phone, runs):
    long_ago = int((now() - RECORDING_GRACE - timedelta(minutes=1)).timestamp())
    assert deliver("status_delivered", new_wamid(), new_phone(), at=long_ago)["statuses"] == {"unknown-message": 1}
    assert runs == [0]  # not retried: waiting cannot make it ours


def test_a_status_that_overtakes_our_own_send_is_retried_and_applied_once_the_send_is_recorded(sending, runs):
    # Meta's "sent" arrives while the worker that sent is still between the provider call and
    # records.mark_sent; the send gets recorded before the task's second try.
    runs.before(2, sending.record)
    result = process_inbound_event.apply(
        kwargs={"message": status("status_delivered", wamid=sending.wamid, phone=sending.phone)}
    )
    assert result.successful() and result.result["statuses"] == {"applied": 1}
    assert runs == [0, 1]
    wa, message = state(sending.wamid, sending.message.messageId)
    assert wa.deliveryStatus == message.status == "delivered"
    assert [h["status"] for h in wa.deliveryStatusHistory] == ["sent", "delivered"]


def test_a_recent_status_still_unknown_after_the_retries_waits_on_the_dlq_and_applies_when_run_again(sending, runs):
    kwargs = {
        "message": status("status_read", wamid=sending.wamid, phone=sending.phone),
        "sns_message_id": f"sns-{sending.wamid}",
    }
    result = process_inbound_event.apply(kwargs=kwargs)
    assert result.failed() and isinstance(result.result, NotRecordedYet)
    assert runs == [0, 1, 2, 3]  # the first try and DeadLetterTask's three retries
    [record] = parked(kwargs)
    assert "NotRecordedYet" in record.payload and sending.wamid in record.payload

    sending.record()  # the send's record lands late
    replay = json.loads(record.payload)
    assert (replay["task"], replay["kwargs"]) == ("messaging.process_inbound_event", kwargs)
    # Running the parked task again, as replay_dlq does:
    assert process_inbound_event.apply(kwargs=replay["kwargs"], throw=True).result["statuses"] == {"applied": 1}
    wa, message = state(sending.wamid, sending.message.messageId)
    assert wa.deliveryStatus == message.status == "read"


def test_an_early_status_retries_its_event_without_applying_the_rest_twice(sent, sending, new_phone, runs):
    """One event: a customer's message, a status for a recorded send, and a status that
    overtook another send. The retries record the message once and the known status once."""
    known_wamid, known_phone, known_id = sent
    customer = new_phone()
    body, inbound_message = inbound("inbound_text", phone=customer)
    event = json.loads(body)
    entry = entry_of(event)
    value = entry["changes"][0]["value"]
    value["statuses"] = [
        entry_of(json.loads(status(name, wamid=wamid, phone=phone)))["changes"][0]["value"]["statuses"][0]
        for name, wamid, phone in (
            ("status_delivered", known_wamid, known_phone),
            ("status_delivered", sending.wamid, sending.phone),
        )
    ]
    runs.before(3, sending.record)

    result = process_inbound_event.apply(kwargs={"message": json.dumps(with_entry(event, entry))})
    assert result.successful() and runs == [0, 1, 2]
    assert result.result == {"recorded": 0, "duplicates": 1, "statuses": {"duplicate": 1, "applied": 1}, "skipped": 0}
    for wamid, message_id in ((known_wamid, known_id), (sending.wamid, sending.message.messageId)):
        wa, message = state(wamid, message_id)
        assert wa.deliveryStatus == message.status == "delivered"
        assert [h["status"] for h in wa.deliveryStatusHistory] == ["sent", "delivered"]
        assert [h.status for h in message.statusHistory].count("delivered") == 1
    received = WaMessage.get(WaMessage.key(inbound_message["id"]), consistent_read=True)
    assert WaConversation.get(received.conversationPk, consistent_read=True).unreadCount == 1
    assert [m.messageId for m in Message.by_contact.query(received.contactId)] == [received.messageId]


@pytest.mark.parametrize("name", ["status_sent", "status_delivered", "status_read", "status_failed"])
def test_a_status_naming_a_customers_own_message_changes_nothing_and_is_not_retried(fake_aws, new_phone, runs, name):
    phone = new_phone()
    body, message = inbound("inbound_text", phone=phone)
    process_inbound_event.apply(kwargs={"message": body}, throw=True)
    before = WaMessage.get(WaMessage.key(message["id"]), consistent_read=True)

    assert deliver(name, message["id"], phone)["statuses"] == {"inbound-message": 1}

    after = WaMessage.get(WaMessage.key(message["id"]), consistent_read=True)
    assert (after.deliveryStatus, after.deliveryStatusHistory) == (before.deliveryStatus, before.deliveryStatusHistory)
    assert Message.get(after.messageId, consistent_read=True).status == "received"
    assert len(runs) == 2  # the message's event and the status's, each run once: no retry
