"""SMS through AWS End User Messaging SMS (pinpoint-sms-voice-v2 SendTextMessage), from the pool or
from one of its two-way numbers (a reply goes from the number the customer wrote to)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from messaging.outbound.senders.base import Outbound, Sender, SendError, SendResult, with_retries

# AWS refuses, without trying, to send to a number on the sending identity's opt-out list.
OPTED_OUT = "DESTINATION_PHONE_NUMBER_OPTED_OUT"


class SmsSender(Sender):
    service = "pinpoint-sms-voice-v2"

    def send(self, out: Outbound, client: Any) -> SendResult:
        params = {
            "DestinationPhoneNumber": out.to,
            # The pool id (the pool picks a number for the country) or one of its numbers.
            "OriginationIdentity": out.sender,
            "MessageBody": out.text or "",
            "MessageType": "TRANSACTIONAL",
        }
        if settings.SMS_CONFIGURATION_SET:
            # Its event destination reports delivery (messaging/inbound/sms_events.py).
            params["ConfigurationSetName"] = settings.SMS_CONFIGURATION_SET
        try:
            answer = with_retries(lambda: client.send_text_message(**params))
        except SendError as error:
            if error.details.get("reason") != OPTED_OUT:
                raise
            # Its own code, so the message, the bulk report and the consent sync (send.dispatch)
            # all name it; the provider's code stays beside it.
            raise SendError(
                f"{out.to} is on the SMS opt-out list: AWS sends nothing to it",
                permanent=True,
                details={**error.details, "code": OPTED_OUT, "providerCode": error.details.get("code")},
            ) from error
        return SendResult(answer["MessageId"], [{"operation": "SendTextMessage", "params": params}])
