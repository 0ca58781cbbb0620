"""SMS through AWS End User Messaging SMS (pinpoint-sms-voice-v2 SendTextMessage) from the pool."""

from __future__ import annotations

from typing import Any

from messaging.outbound.senders.base import Outbound, Sender, SendResult, with_retries


class SmsSender(Sender):
    service = "pinpoint-sms-voice-v2"

    def send(self, out: Outbound, client: Any) -> SendResult:
        params = {
            "DestinationPhoneNumber": out.to,
            "OriginationIdentity": out.sender,  # the pool id: the pool picks a number for the country
            "MessageBody": out.text or "",
            "MessageType": "TRANSACTIONAL",
        }
        answer = with_retries(lambda: client.send_text_message(**params))
        return SendResult(answer["MessageId"], [{"operation": "SendTextMessage", "params": params}])
