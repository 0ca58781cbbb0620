"""Email through SES v2 SendEmail, plain text and HTML, from the verified sender.

A message with headers of its own (a bulk email's List-Unsubscribe: docs/design/email-feedback.md)
goes as Raw MIME built here, so the mail SES sends, and the mail moto keeps locally, carry exactly
those headers; any other goes as SES's Simple content, as it always has.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from django.conf import settings

from messaging.outbound.senders.base import Outbound, Sender, SendResult, with_retries

# RFC 5322's line limit rather than the 78-character fold: folding a header with no spaces (an
# unsubscribe URL) makes Python encode it as RFC 2047 words, which no mail client reads as a URL.
MIME_POLICY = policy.SMTP.clone(max_line_length=998)


def raw_mime(out: Outbound, from_address: str) -> bytes:
    """The whole message as SES's Raw content: text, the HTML as its alternative, ``out.headers``."""
    mail = EmailMessage(policy=MIME_POLICY)
    mail["From"] = from_address
    mail["To"] = out.to
    mail["Subject"] = out.subject or ""
    for name, value in out.headers.items():
        mail[name] = value
    # Quoted-printable keeps every line 7-bit and short, whatever the text's language.
    mail.set_content(out.text or "", cte="quoted-printable")
    if out.html:
        mail.add_alternative(out.html, subtype="html", cte="quoted-printable")
    return mail.as_bytes()


class EmailSender(Sender):
    service = "sesv2"

    def send(self, out: Outbound, client: Any) -> SendResult:
        from_address = formataddr((settings.SES_SENDER_NAME, out.sender))
        params: dict[str, Any] = {"FromEmailAddress": from_address, "Destination": {"ToAddresses": [out.to]}}
        if settings.SES_CONFIGURATION_SET:
            # Its event destination reports this mail's deliveries, bounces and complaints.
            params["ConfigurationSetName"] = settings.SES_CONFIGURATION_SET
        if out.headers:
            raw = raw_mime(out, from_address)
            params["Content"] = {"Raw": {"Data": raw}}
            recorded = {**params, "Content": {"Raw": {"Data": raw.decode("utf-8", "replace")}}}
        else:
            body: dict[str, Any] = {"Text": {"Data": out.text or "", "Charset": "UTF-8"}}
            if out.html:
                body["Html"] = {"Data": out.html, "Charset": "UTF-8"}
            params["Content"] = {"Simple": {"Subject": {"Data": out.subject or "", "Charset": "UTF-8"}, "Body": body}}
            recorded = params
        answer = with_retries(lambda: client.send_email(**params))
        return SendResult(answer["MessageId"], [{"operation": "SendEmail", "params": recorded}])
