"""Parsing EUM events: every message type Meta sends, several items per event, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from messaging.inbound.events import MalformedEvent, parse
from messaging.tests.inbound_samples import INBOUND, STATUSES, entry_of, load, with_entry


def event_with(*messages: dict, statuses: tuple[dict, ...] = (), drop_message_id: bool = False) -> str:
    event = load("inbound_text")
    entry = entry_of(event)
    value = entry["changes"][0]["value"]
    value["messages"] = [
        {"from": "919812345678", "id": f"wamid.{i}", "timestamp": "1763630100", **m} for i, m in enumerate(messages)
    ]
    if statuses:
        value["statuses"] = list(statuses)
    event = with_entry(event, entry)
    if drop_message_id:
        del event["messageId"]
    return json.dumps(event)


def only(*messages: dict):
    return parse(event_with(*messages)).messages


@pytest.mark.parametrize("name", INBOUND)
def test_each_inbound_sample_parses_to_one_message_from_the_business_number(name):
    [message] = parse(json.dumps(load(name))).messages
    assert message.business.phone_number_id == "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"
    assert message.business.suffix == "baa217c3f11b4ffd956f6f3afb44ce54"
    assert message.business.display_phone == "+919876500001"
    assert message.sender.phone == "+919812345678" and message.sender_name == "Asha Rao"
    assert message.wa_message_id.startswith("wamid.") and message.preview


def test_the_samples_read_as_a_person_would_describe_them():
    previews = {name: parse(json.dumps(load(name))).messages[0] for name in INBOUND}
    assert previews["inbound_text"].text == "Hi, is my order ready? 🙏"
    image = previews["inbound_image"]
    assert (image.type, image.caption, image.media_id, image.mime_type, image.has_media) == (
        "image",
        "payment receipt",
        "1003383421387256",
        "image/jpeg",
        True,
    )
    assert image.preview == "Photo: payment receipt"
    document = previews["inbound_document"]
    assert (document.filename, document.preview) == ("aadhaar.pdf", "Document: aadhaar.pdf: KYC")
    reply = previews["inbound_interactive_list_reply"]
    assert (reply.text, reply.details["replyId"], reply.reply_to) == (
        "Pay a bill",
        "menu_pay",
        "wamid.HBgMOTE5ODc2NTAwMDAxFQIAERgSMENBQjk4RkY0QTMzN0E2MDlBAA==",
    )
    reaction = previews["inbound_reaction"]
    assert (reaction.reaction_emoji, reaction.preview) == ("👍", "Reacted 👍")
    assert reaction.reaction_to == "wamid.HBgMOTE5ODc2NTAwMDAxFQIAERgSMENBQjk4RkY0QTMzN0E2MDlBAA=="


@pytest.mark.parametrize(
    ("message", "kind", "preview"),
    [
        ({"type": "video", "video": {"id": "77", "mime_type": "video/mp4"}}, "video", "Video"),
        (
            {"type": "audio", "audio": {"id": "78", "mime_type": "audio/ogg; codecs=opus", "voice": True}},
            "audio",
            "Voice message",
        ),
        (
            {"type": "sticker", "sticker": {"id": "79", "mime_type": "image/webp", "animated": False}},
            "sticker",
            "Sticker",
        ),
        (
            {
                "type": "location",
                "location": {"latitude": 12.97, "longitude": 77.59, "name": "Cubbon Park", "address": "Bengaluru"},
            },
            "location",
            "Location: Cubbon Park, Bengaluru",
        ),
        (
            {"type": "location", "location": {"latitude": 12.97, "longitude": 77.59}},
            "location",
            "Location: 12.97, 77.59",
        ),
        (
            {
                "type": "contacts",
                "contacts": [{"name": {"formatted_name": "Ravi K"}, "phones": [{"phone": "+919800000000"}]}],
            },
            "contacts",
            "Contact card: Ravi K",
        ),
        (
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes please"}},
            },
            "interactive",
            "Yes please",
        ),
        ({"type": "button", "button": {"text": "Track order", "payload": "TRACK"}}, "button", "Track order"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": ""}}, "reaction", "Removed a reaction"),
        (
            {
                "type": "order",
                "order": {
                    "catalog_id": "c1",
                    "product_items": [
                        {"product_retailer_id": "a", "quantity": 2},
                        {"product_retailer_id": "b", "quantity": 1},
                    ],
                },
            },
            "order",
            "Order: 3 items",
        ),
        (
            {"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]},
            "unsupported",
            "Message type unknown",
        ),
        ({"type": "hologram", "hologram": {"id": "1"}}, "unsupported", "Unsupported message (hologram)"),
    ],
)
def test_every_message_type_gets_a_human_preview(message, kind, preview):
    [parsed] = only(message)
    assert (parsed.type, parsed.preview) == (kind, preview)


def test_media_types_carry_their_media_id_and_a_caption_when_given():
    [video, sticker] = only(
        {"type": "video", "video": {"id": "77", "mime_type": "video/mp4", "caption": "unboxing"}},
        {"type": "sticker", "sticker": {"id": "79", "mime_type": "image/webp"}},
    )
    assert (video.media_id, video.caption, video.preview, video.has_media) == (
        "77",
        "unboxing",
        "Video: unboxing",
        True,
    )
    assert (sticker.media_id, sticker.has_media) == ("79", True)


def test_an_unknown_type_keeps_its_original_payload():
    [parsed] = only({"type": "hologram", "hologram": {"id": "1", "depth": 3}})
    assert parsed.details == {"originalType": "hologram"}
    assert parsed.raw["hologram"] == {"id": "1", "depth": 3}


def test_a_long_text_is_kept_whole_and_previewed_short():
    [parsed] = only({"type": "text", "text": {"body": "x" * 4000}})
    assert len(parsed.text) == 4000 and len(parsed.preview) == 100


def test_several_messages_and_statuses_in_one_entry_are_all_read():
    status = {"id": "wamid.out1", "status": "delivered", "timestamp": "1763630400", "recipient_id": "919812345678"}
    event = parse(
        event_with(
            {"type": "text", "text": {"body": "one"}},
            {"type": "text", "text": {"body": "two"}},
            statuses=(status, {**status, "status": "READ"}),
        )
    )
    assert [m.text for m in event.messages] == ["one", "two"]
    assert [s.status for s in event.statuses] == ["delivered", "read"]


def test_an_event_without_its_eum_message_id_still_parses():
    event = parse(event_with({"type": "text", "text": {"body": "hi"}}, drop_message_id=True))
    assert event.event_id is None and len(event.messages) == 1


@pytest.mark.parametrize("name", STATUSES)
def test_each_status_sample_parses(name):
    [status] = parse(json.dumps(load(name))).statuses
    assert status.status == name.removeprefix("status_")
    assert status.wa_message_id == "wamid.HBgMOTE5ODEyMzQ1Njc4FQIAERgSNkQ3RTlBQjA1QzJGOEQxRTMzAA=="


def test_a_failed_status_carries_metas_errors():
    [status] = parse(json.dumps(load("status_failed"))).statuses
    assert status.errors[0]["code"] == 131047 and status.errors[0]["title"] == "Re-engagement message"


def test_a_message_whose_timestamp_cannot_be_read_is_kept_as_received_now():
    # The customer's words must not be lost over Meta's clock: the raw payload keeps what it said.
    before = datetime.now(UTC)
    fine, odd = parse(
        event_with(
            {"type": "text", "text": {"body": "fine"}},
            {"type": "text", "text": {"body": "odd"}, "timestamp": "yesterday"},
        )
    ).messages
    assert (fine.text, odd.text) == ("fine", "odd")
    assert odd.sent_at >= before and odd.raw["timestamp"] == "yesterday"


def test_an_order_with_a_quantity_that_is_not_a_number_is_kept_with_its_neighbours():
    event = parse(
        event_with(
            {"type": "text", "text": {"body": "fine"}},
            {"type": "order", "order": {"product_items": [{"product_retailer_id": "a", "quantity": "two"}]}},
        )
    )
    text, order = event.messages
    assert text.text == "fine"
    assert (order.type, order.preview) == ("order", "Order")
    assert order.details["order"]["product_items"][0]["quantity"] == "two"  # kept as the customer sent it


def _event_with_changes(*changes, context: dict | None = None) -> str:
    event = load("inbound_text")
    entry = entry_of(event)
    entry["changes"] = [*changes, entry["changes"][0]]  # the sample's good change comes last
    event = with_entry(event, entry)
    if context is not None:
        event["context"] = context
    return json.dumps(event)


@pytest.mark.parametrize(
    "bad_change",
    [
        {"value": ["not", "an", "object"]},
        {"value": "a string"},
        "a change that is a string",
        {"value": {"metadata": "not an object", "messages": [{"id": "wamid.x", "from": "1", "timestamp": "1"}]}},
        {"value": {"messages": "not a list"}},
    ],
)
def test_an_unreadable_change_is_left_out_and_the_good_change_is_still_read(bad_change):
    event = parse(_event_with_changes(bad_change))
    assert [m.text for m in event.messages] == ["Hi, is my order ready? 🙏"]
    assert len(event.skipped) == 1


def test_a_phone_number_entry_that_is_not_an_object_does_not_hide_the_good_one():
    context = load("inbound_text")["context"]
    context["MetaPhoneNumberIds"] = ["garbage", 7, *context["MetaPhoneNumberIds"]]
    context["MetaWabaIds"] = [None, *context["MetaWabaIds"]]
    [message] = parse(_event_with_changes(context=context)).messages
    assert message.business.suffix == "baa217c3f11b4ffd956f6f3afb44ce54"
    assert message.business.waba_meta_id == "365731266123456"


@pytest.mark.parametrize(
    "bad_item",
    [
        "a message that is a string",
        {"id": "wamid.x", "from": ["not", "a", "string"], "timestamp": "1", "type": "text"},
        {"from": "919812345678", "timestamp": "1", "type": "text", "text": {"body": "no id"}},
    ],
)
def test_a_message_with_no_id_or_no_sender_is_left_out_and_named_in_the_reason(bad_item):
    # Nothing can record it once or put it in anyone's conversation.
    event = load("inbound_text")
    entry = entry_of(event)
    entry["changes"][0]["value"]["messages"].append(bad_item)
    event = parse(json.dumps(with_entry(event, entry)))
    assert [m.text for m in event.messages] == ["Hi, is my order ready? 🙏"]
    [reason] = event.skipped
    assert reason.startswith("message: ") and json.dumps(bad_item)[:20] in reason  # the log line shows what was sent


@pytest.mark.parametrize(
    "bad_item",
    [
        {
            "id": "wamid.x",
            "from": "919812345678",
            "timestamp": "1",
            "type": "interactive",
            "interactive": "not an object",
        },
        {"id": "wamid.x", "from": "919812345678", "timestamp": "1", "type": ["text"]},
        {"id": "wamid.x", "from": "919812345678", "timestamp": "1", "type": "text", "text": "a string, not an object"},
        {"id": "wamid.x", "from": "919812345678", "timestamp": "1", "type": "image", "image": ["x"]},
    ],
)
def test_a_message_with_parts_that_cannot_be_read_is_kept_whole_as_unsupported(bad_item):
    event = load("inbound_text")
    entry = entry_of(event)
    entry["changes"][0]["value"]["messages"].append(bad_item)
    event = parse(json.dumps(with_entry(event, entry)))
    good, kept = event.messages
    assert good.text == "Hi, is my order ready? 🙏" and event.skipped == []
    assert (kept.type, kept.raw, kept.sender.phone) == ("unsupported", bad_item, "+919812345678")
    assert kept.preview.startswith("Unsupported message")


def test_an_unreadable_status_is_left_out_and_its_neighbours_are_read():
    good = {"id": "wamid.out1", "status": "delivered", "timestamp": "1763630400", "recipient_id": "919812345678"}
    event = parse(event_with(statuses=("not a status", {**good, "timestamp": {"when": "now"}}, good)))
    assert [s.wa_message_id for s in event.statuses] == ["wamid.out1"]
    assert [r.split(":")[0] for r in event.skipped] == ["status", "status"]


def test_a_failed_status_with_oddly_shaped_errors_is_still_a_failed_status():
    failed = {
        "id": "wamid.out1",
        "status": "failed",
        "timestamp": "1763630400",
        "errors": {"code": 131047, "title": "Re-engagement message"},
    }
    [status] = parse(event_with(statuses=(failed,))).statuses
    assert status.errors == [{"code": 131047, "title": "Re-engagement message"}]
    [status] = parse(event_with(statuses=({**failed, "errors": "boom"},))).statuses
    assert (status.status, status.errors) == ("failed", [])


def test_an_event_in_which_no_change_can_be_read_is_malformed():
    event = load("inbound_text")
    entry = entry_of(event)
    entry["changes"] = [{"value": "nothing readable"}, "nor here"]
    with pytest.raises(MalformedEvent, match="no readable change"):
        parse(json.dumps(with_entry(event, entry)))


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        json.dumps({"context": {}}),  # no whatsAppWebhookEntry
        json.dumps({"context": {}, "whatsAppWebhookEntry": "{truncated"}),
        json.dumps(
            {"context": {}, "whatsAppWebhookEntry": json.dumps({"changes": [{"value": {"messages": []}}]})}
        ),  # no phone ARN
        json.dumps([1, 2, 3]),
    ],
)
def test_a_body_that_is_not_an_eum_event_is_malformed(body):
    with pytest.raises(MalformedEvent):
        parse(body)


# --- the sender, as WhatsApp gave it ------------------------------------------------------------


@pytest.mark.parametrize("wa_id", ["972987654321", "1111111111111", "409552778964973", "15550001234"])
def test_a_sender_number_is_kept_as_whatsapp_gave_it_whatever_libphonenumber_thinks(wa_id):
    # Israeli, a run of ones, a 15-digit Romanian-looking number, Meta's +1 555 test numbers.
    [message] = parse(event_with({"from": wa_id, "type": "text", "text": {"body": "hi"}})).messages
    assert message.sender.phone == f"+{wa_id}" and message.customer == f"+{wa_id}"


def _username_event(message: dict, contact: dict) -> str:
    event = load("inbound_text")
    entry = entry_of(event)
    value = entry["changes"][0]["value"]
    value["contacts"] = [contact]
    value["messages"] = [
        {"id": "wamid.u1", "timestamp": "1763630100", "type": "text", "text": {"body": "hello"}, **message}
    ]
    return json.dumps(with_entry(event, entry))


@pytest.mark.parametrize(
    ("message", "contact"),
    [
        (
            {"from": ""},
            {"profile": {"name": "Sheena", "username": "@sheena"}, "wa_id": "", "user_id": "US.13491208655302741918"},
        ),
        (
            {"from_user_id": "US.13491208655302741918"},
            {"profile": {"name": "Sheena"}, "user_id": "US.13491208655302741918"},
        ),
        ({}, {"profile": {"name": "Sheena"}, "user_id": "US.13491208655302741918"}),
    ],
)
def test_a_username_sender_is_named_by_their_business_scoped_user_id(message, contact):
    [parsed] = parse(_username_event(message, contact)).messages
    assert (parsed.sender.phone, parsed.sender.user_id, parsed.sender_name) == (
        None,
        "US.13491208655302741918",
        "Sheena",
    )
    assert parsed.customer == "US.13491208655302741918"


def test_a_sender_with_a_number_and_a_user_id_keeps_both():
    contact = {"profile": {"name": "Krish"}, "wa_id": "919810218674", "user_id": "IN.1410018717833190"}
    [parsed] = parse(_username_event({"from": "919810218674", "from_user_id": "IN.1410018717833190"}, contact)).messages
    assert (parsed.sender.phone, parsed.sender.user_id, parsed.customer) == (
        "+919810218674",
        "IN.1410018717833190",
        "+919810218674",
    )


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("\u202eevil\u202c Bank", "evil Bank"),  # a bidi override that would reverse what follows
        ("Ana\u200b\u2060\ufeff Lima\x07", "Ana Lima"),  # invisible characters and a control
        ("Ram\ud800", "Ram"),  # a lone surrogate DynamoDB cannot store
        (
            "\u0915\u094d\u200d\u0937 \U0001f469\u200d\U0001f4bb",
            "\u0915\u094d\u200d\u0937 \U0001f469\u200d\U0001f4bb",
        ),  # joiners stay
        ("\u202e\u200b", None),  # nothing visible: no name
        ("x" * 500, "x" * 200),
    ],
)
def test_the_profile_name_is_the_visible_text_the_customer_chose(given, shown):
    contact = {"profile": {"name": given}, "wa_id": "919810218674"}
    [parsed] = parse(_username_event({"from": "919810218674"}, contact)).messages
    assert parsed.sender_name == shown
