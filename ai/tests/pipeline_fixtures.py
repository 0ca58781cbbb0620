"""Helpers of the pipeline's tests: a customer's
WhatsApp text delivered through the recording path (the EUM sample with its own text), so the
pipeline hears of it through messaging's signal as in production (Celery eager)."""

from __future__ import annotations

import json
from typing import Any

from ai.models import AIInteraction
from ai.pipeline import records
from messaging.inbound.process import process_inbound_event
from messaging.tests.inbound_samples import entry_of, load, new_wamid, with_entry
from wecare.dynamo import now


def text_event(phone: str, text: str, *, at: int | None = None, name: str = "Asha Rao") -> tuple[str, str]:
    """(SNS message, wamid) of a WhatsApp text ``text`` from ``phone``, sent at epoch ``at``."""
    event = load("inbound_text")
    entry = entry_of(event)
    value = entry["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": name}, "wa_id": phone.lstrip("+")}]
    wamid = new_wamid()
    message = value["messages"][0]
    message.update({"from": phone.lstrip("+"), "id": wamid, "timestamp": str(at or int(now().timestamp()))})
    message["text"] = {"body": text}
    return json.dumps(with_entry(event, entry)), wamid


def deliver(body: str) -> None:
    process_inbound_event.apply(kwargs={"message": body, "sns_message_id": "sns-test"}, throw=True)


def write(phone: str, text: str, **kwargs: Any) -> str:
    """Deliver a text from ``phone``; its wamid."""
    body, wamid = text_event(phone, text, **kwargs)
    deliver(body)
    return wamid


def interaction(wamid: str) -> AIInteraction:
    item = records.get(wamid)
    assert item is not None, f"no interaction for {wamid}"
    return item
