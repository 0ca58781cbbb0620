"""Email through SES v2 SendEmail, plain text and HTML, from the verified sender."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from django.conf import settings

from messaging.outbound.senders.base import Outbound, Sender, SendResult, with_retries


class EmailSender(Sender):
    service = "sesv2"

    def send(self, out: Outbound, client: Any) -> SendResult:
        body: dict[str, Any] = {"Text": {"Data": out.text or "", "Charset": "UTF-8"}}
        if out.html:
            body["Html"] = {"Data": out.html, "Charset": "UTF-8"}
        params = {
            "FromEmailAddress": formataddr((settings.SES_SENDER_NAME, out.sender)),
            "Destination": {"ToAddresses": [out.to]},
            "Content": {"Simple": {"Subject": {"Data": out.subject or "", "Charset": "UTF-8"}, "Body": body}},
        }
        answer = with_retries(lambda: client.send_email(**params))
        return SendResult(answer["MessageId"], [{"operation": "SendEmail", "params": params}])
