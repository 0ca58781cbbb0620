"""Delivery statuses from the status samples, applied to messages the outbound path recorded:
forward only, failed is final with Meta's error, each (message, status) once."""

from __future__ import annotations

import pytest

from contacts import actions
from messaging import records
from messaging.inbound.tasks import process_inbound_event
from messaging.models import Message
from messaging.senders import SendResult
from messaging.tests.inbound_samples import new_wamid, status
from messaging.whatsapp_table import WaMessage
from wecare.dynamo import now

pytestmark = pytest.mark.django_db
NUMBER = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"


@pytest.fixture
def sent(operator, new_phone):
    """A WhatsApp message recorded as sent by the outbound path (records.mark_sent)."""
    phone = new_phone()
    contact = actions.create_contact({"phone": phone, "optInWhatsApp": True}, user=operator, source="test")
    message = records.create_queued(contact=contact, channel="whatsapp", sender=NUMBER, content={"text": "Your order shipped"}, template_name=None, created_by="test", dry_run=False)
    assert records.claim(message)
    wamid = new_wamid()
    records.mark_sent(message, SendResult(provider_message_id=wamid), to=phone)
    return wamid, phone, message.messageId


def deliver(name: str, wamid: str, phone: str, at: int | None = None) -> dict:
    return process_inbound_event.apply(kwargs={"message": status(name, wamid=wamid, phone=phone, at=at)}, throw=True).result


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
    assert [h["status"] for h in wa.deliveryStatusHistory] == ["sent", "sent", "delivered", "read"]  # the send's own, then Meta's
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
    assert wamid in [i.pk.removeprefix("MSG#") for i in WaMessage.delivery_status_index.query("failed")]  # the contract's GSI5


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


def test_a_status_for_a_message_we_never_sent_is_skipped_quietly(fake_aws, new_phone):
    assert deliver("status_delivered", new_wamid(), new_phone())["statuses"] == {"unknown-message": 1}
