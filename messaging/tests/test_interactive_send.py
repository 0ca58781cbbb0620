"""Interactive list messages in the one send path: checked against WhatsApp's limits before they
are queued, and sent LIVE to the local fake as Meta's message JSON."""

from __future__ import annotations

import base64
import json

import pytest

from messaging.models import Message
from messaging.outbound import send
from messaging.tests.autoreply_fixtures import MENU, business_number, customer
from messaging.whatsapp_table import WaMessage
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db

LIST = {"body": MENU["bodyText"], "button": MENU["buttonText"], "sections": MENU["sections"]}


def request(contact_id: str = "01CONTACT", **content) -> dict:
    return {"contactId": contact_id, "channel": "whatsapp", "sender": business_number(), **content}


def test_a_list_message_goes_to_the_provider_as_metas_interactive_json(settings, fake_aws_clean, operator, new_phone):
    settings.SEND_MODE = "LIVE"
    contact = customer(operator, new_phone())
    message = send.send_message(request(contact.contactId, interactive=LIST), user=operator, source="test")
    [call] = fake_aws_clean.calls("SendWhatsAppMessage")
    body = json.loads(base64.b64decode(call["params"]["message"]))
    assert body["type"] == "interactive" and body["to"] == contact.phone.lstrip("+")
    assert body["interactive"]["action"]["sections"][0]["rows"][1] == {"id": "talk", "title": "Talk to us"}
    stored = Message.get(message.messageId, consistent_read=True)
    assert stored.status == "sent" and stored.content == {"interactive": LIST}
    wa = WaMessage.get(WaMessage.key(stored.whatsappMessageId))
    assert (wa.type, wa.preview) == ("interactive", MENU["bodyText"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"button": "x" * 21}, "interactive.button"),
        ({"body": ""}, "interactive.body"),
        ({"sections": []}, "interactive.sections"),
        (
            {"sections": [{"title": "S", "rows": [{"id": f"r{i}", "title": "t"} for i in range(11)]}]},
            "interactive.sections",
        ),
        (
            {"sections": [{"title": "S", "rows": [{"id": "a", "title": "t" * 25}]}]},
            "interactive.sections.0.rows.0.title",
        ),
        (
            {"sections": [{"title": "S", "rows": [{"id": "a", "title": "t", "description": "d" * 73}]}]},
            "interactive.sections.0.rows.0.description",
        ),
        (
            {
                "sections": [
                    {"title": "", "rows": [{"id": "a", "title": "t"}]},
                    {"title": "B", "rows": [{"id": "b", "title": "t"}]},
                ]
            },
            "interactive.sections.0.title",
        ),
    ],
)
def test_a_list_beyond_whatsapps_limits_is_a_field_error(change, field):
    with pytest.raises(FieldErrors) as caught:
        send.parse(request(interactive={**LIST, **change}))
    assert field in caught.value.errors


def test_a_list_is_one_kind_of_content_not_an_addition():
    with pytest.raises(FieldErrors) as caught:
        send.parse(request(interactive=LIST, text="and text"))
    assert "exactly one of" in caught.value.errors["text"]
    with pytest.raises(FieldErrors) as caught:
        send.parse({"contactId": "x", "channel": "sms", "interactive": LIST, "text": "hi"})
    assert caught.value.errors["interactive"] == "is for WhatsApp only, not sms"
