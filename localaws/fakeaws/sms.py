"""pinpoint-sms-voice-v2 (AWS End User Messaging SMS): the operation the app uses."""

from __future__ import annotations

import uuid
from typing import Any

from localaws.fakeaws.context import Context


def send_text_message(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    # The origination identity (the SMS pool) is checked against the model's pattern only: the
    # fake does not keep a list of pools, phone numbers or sender ids.
    return {"MessageId": str(uuid.uuid4())}


HANDLERS = {"SendTextMessage": send_text_message}
