"""The EUM sample events (``fixtures/eum/``, copied from the shared samples), made fresh per test.

moto keeps data for the whole test session and other tests deliver the same samples, so each
test gets the sample with its own WhatsApp message id, sender and timestamp: what a test asserts
is then about its own event only.
"""

from __future__ import annotations

import copy
import json
import secrets
from pathlib import Path
from typing import Any

from wecare.dynamo import now

FIXTURES = Path(__file__).parent / "fixtures" / "eum"
INBOUND = ("inbound_text", "inbound_image", "inbound_document", "inbound_interactive_list_reply", "inbound_reaction")
STATUSES = ("status_sent", "status_delivered", "status_read", "status_failed")


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def entry_of(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(event["whatsAppWebhookEntry"])


def with_entry(event: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["whatsAppWebhookEntry"] = json.dumps(entry)
    return event


def new_wamid() -> str:
    return f"wamid.TEST{secrets.token_hex(16).upper()}"


def inbound(
    name: str, *, phone: str, wamid: str | None = None, name_on_profile: str | None = "Asha Rao", at: int | None = None
) -> tuple[str, dict[str, Any]]:
    """(SNS Message string, the one message in it) for sample ``name`` sent by ``phone`` (E.164)."""
    event = load(name)
    entry = entry_of(event)
    value = entry["changes"][0]["value"]
    wa_id = phone.lstrip("+")
    value["contacts"] = (
        [{"profile": {"name": name_on_profile}, "wa_id": wa_id}] if name_on_profile else [{"wa_id": wa_id}]
    )
    message = value["messages"][0]
    message.update({"from": wa_id, "id": wamid or new_wamid(), "timestamp": str(at or int(now().timestamp()))})
    return json.dumps(with_entry(event, entry)), message


def status(name: str, *, wamid: str, phone: str, at: int | None = None) -> str:
    event = load(name)
    entry = entry_of(event)
    item = entry["changes"][0]["value"]["statuses"][0]
    item.update({"id": wamid, "recipient_id": phone.lstrip("+"), "timestamp": str(at or int(now().timestamp()))})
    return json.dumps(with_entry(event, entry))
