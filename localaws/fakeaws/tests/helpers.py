"""Values and builders the fake's tests share."""

from __future__ import annotations

import json

PHONE = "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54"  # first of settings.WHATSAPP_PHONE_NUMBER_IDS' defaults
SMS_POOL = "pool-6fbf5a5f390d4eeeaa7dbae39d78933e"


def whatsapp_text(to: str = "+14155550123", body: str = "Hello from the tests") -> bytes:
    return json.dumps({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}).encode()
