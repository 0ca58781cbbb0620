"""Real WhatsApp webhook payloads (``fixtures/real/``: public client libraries' test data and
Meta's documentation, each file's source in the README there), each wrapped in an AWS End User
Messaging Social event as EUM publishes it, signed as SNS signs it and posted to the webhook.

Every message is recorded exactly once, from the sender as WhatsApp gave it (numbers that
libphonenumber calls invalid, username senders with only a user id); a second delivery changes
nothing; nothing is parked on inbound-dlq.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from messaging.inbound.events import READERS
from messaging.models import Message
from messaging.tests.inbound_samples import load
from messaging.tests.sns_signing import notification, sns_test_certificates  # noqa: F401 (a fixture)
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare import dlq

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
REAL = Path(__file__).parent / "fixtures" / "real"
PAYLOADS = sorted(path.stem for path in REAL.glob("*.json"))


def as_eum_event(name: str) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(the SNS Message EUM would publish for this Meta webhook, its messages, its statuses).

    EUM carries one ``entry`` as a JSON string beside the ARNs of our WABA and number (the shared
    sample's). Each id gets this run's suffix: several libraries reuse one wamid across samples,
    and moto keeps data for the whole test session."""
    run = uuid.uuid4().hex[:12]
    entry = copy.deepcopy(json.loads((REAL / f"{name}.json").read_text())["entry"][0])
    messages, statuses = [], []
    for change in entry["changes"]:
        for key, found in (("messages", messages), ("statuses", statuses)):
            for item in change["value"].get(key, []):
                item["id"] = f"{item['id']}.{run}"
                found.append(item)
    event = {**load("inbound_text"), "whatsAppWebhookEntry": json.dumps(entry), "messageId": str(uuid.uuid4())}
    return json.dumps(event), messages, statuses


def who(message: dict[str, Any], contacts: list[dict[str, Any]]) -> str:
    """The sender the conversation should be with, read off the sample itself (not through the
    code under test): "+" and the number as given, else the user id."""
    if message.get("from"):
        return "+" + message["from"]
    user_id = message.get("from_user_id") or contacts[0].get("user_id")
    assert user_id, f"the sample names no sender: {message}"
    return user_id


def recorded(wamid: str) -> tuple[WaMessage, list[Message], int]:
    item = WaMessage.get(WaMessage.key(wamid), consistent_read=True)
    kept = [m for m in Message.by_contact.query(item.contactId) if m.whatsappMessageId == wamid]
    unread = int(WaConversation.get(item.conversationPk, consistent_read=True).unreadCount or 0)
    return item, kept, unread


def post(client, envelope: dict) -> int:
    return client.post(
        "/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain; charset=UTF-8"
    ).status_code


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_real_payload_through_the_signed_webhook_is_recorded_once_and_never_parked(
    client, settings, fake_aws_clean, name
):
    body, messages, statuses = as_eum_event(name)
    entry = json.loads(json.loads(body)["whatsAppWebhookEntry"])
    contacts = entry["changes"][0]["value"].get("contacts") or [{}]
    envelope = notification(body, topic_arn=settings.SNS_TOPIC_ARN)

    assert post(client, envelope) == 200
    first = {m["id"]: recorded(m["id"]) for m in messages}
    assert post(client, envelope) == 200  # SNS delivering it again
    again = {m["id"]: recorded(m["id"]) for m in messages}

    for message in messages:
        item, kept, unread = first[message["id"]]
        expected_type = message["type"] if message["type"] in READERS else "unsupported"
        assert (item.direction, item.type, item.from_) == ("INBOUND", expected_type, who(message, contacts))
        assert len(kept) == 1 and kept[0].content["payload"] == message  # nothing Meta said is lost
        if expected_type == "unsupported":
            assert json.loads(item.rawPayload) == message  # shown in the conversation
        again_item, again_kept, again_unread = again[message["id"]]
        assert (again_item.serialize(), [m.messageId for m in again_kept], again_unread) == (
            item.serialize(),
            [kept[0].messageId],
            unread,
        )
    assert messages or statuses, f"{name} holds neither a message nor a status"
    wanted = dlq.fingerprint(
        "messaging.process_inbound_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    assert [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted] == []


def test_the_samples_cover_every_kind_of_message_and_status():
    kinds: set[str] = set()
    for name in PAYLOADS:
        _, messages, statuses = as_eum_event(name)
        kinds |= {m["type"] for m in messages} | {f"status:{s['status']}" for s in statuses}
        kinds |= {"username" for m in messages if not m.get("from")} | {"referral" for m in messages if "referral" in m}
    wanted = {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "unsupported",
        "username",
        "referral",
    }
    assert wanted <= kinds and {"status:sent", "status:delivered", "status:read", "status:failed"} <= kinds
