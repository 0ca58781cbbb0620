"""Local stack only: a customer writes to one of our WhatsApp numbers (or, with --sms, texts one
of our two-way SMS numbers; with --email, mails one of our receiving addresses:
localaws/ses_receiving.py plays SES receiving's S3 action); with --change, Meta reports something
else about the account under another webhook field (a call, a template's status, a number's
quality: docs/design/account-health.md, docs/design/calls.md).

Builds the event AWS End User Messaging Social (or End User Messaging SMS) would publish and
publishes it to the SNS topic on the local stack (moto), which delivers it over HTTP to our webhook
exactly as SNS does in AWS: signed, verified, queued, processed by the worker. `make run`
subscribes the webhook at start.
"""

import json
import random
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.validation import whatsapp_user_id
from localaws import ses_feedback, ses_receiving
from messaging.inbound import keywords
from wecare import aws

E164_SHAPE = re.compile(r"\+[1-9][0-9]{7,14}")
DEFAULT_SENDER = "+919812345670"  # a demo contact


class Command(BaseCommand):
    help = (
        "Local stack only: publish a WhatsApp message (or, with --email, a mail; with --sms, a two-way SMS)"
        " from a customer, or subscribe the webhook with --subscribe URL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from",
            dest="sender",
            default=DEFAULT_SENDER,
            help="the customer's number, E.164, not checked against libphonenumber's "
            "ranges, as WhatsApp sends it (default: a demo contact)",
        )
        parser.add_argument(
            "--user-id",
            dest="user_id",
            default=None,
            help="instead of --from: a customer who hides their number behind a username, "
            "named by this business-scoped user id (e.g. US.13491208655302741918)",
        )
        parser.add_argument("--name", default="", help="the customer's WhatsApp profile name")
        parser.add_argument("--text", default="Hello! Is my order ready?", help="the message text")
        parser.add_argument(
            "--number",
            default=None,
            help="the business number (originationPhoneNumberId; default: the first allowlisted)",
        )
        parser.add_argument(
            "--sms",
            metavar="TEXT",
            default=None,
            help="instead of WhatsApp: a two-way SMS with this text (e.g. STOP) from --from to --to",
        )
        parser.add_argument(
            "--to",
            default=None,
            help="with --sms: the business number texted (E.164; default: the first of SMS_NUMBERS, else +12125550101)",
        )
        parser.add_argument(
            "--change",
            metavar="FIELD",
            default=None,
            help="instead of a message: a change of this webhook field (calls, message_template_status_update, "
            "phone_number_quality_update…) about --number, its value given by --value",
        )
        parser.add_argument(
            "--value",
            default=None,
            help="with --change: Meta's `value` object, as JSON or @FILE (docs/local-stack.md has examples)",
        )
        parser.add_argument(
            "--subscribe", metavar="URL", default=None, help="instead: subscribe this webhook URL to the SNS topic"
        )
        email = parser.add_argument_group("--email: a customer's mail, received by SES (S3 action + SNS)")
        email.add_argument("--email", action="store_true", help="send an email instead (--from is then an address)")
        email.add_argument("--subject", default="Hello", help="the mail's subject")
        email.add_argument("--attach", metavar="FILE", action="append", default=[], help="attach a file (repeatable)")
        email.add_argument("--in-reply-to", dest="in_reply_to", default=None, help="the Message-ID it answers")
        feedback = parser.add_argument_group("SES feedback on our newest mail to an address (event destination + SNS)")
        feedback.add_argument("--bounce", metavar="ADDRESS", default=None, help="a hard bounce from this address")
        feedback.add_argument("--complaint", metavar="ADDRESS", default=None, help="a complaint from this address")

    def handle(
        self,
        *args,
        sender: str,
        user_id: str | None,
        name: str,
        text: str,
        number: str | None,
        subscribe: str | None,
        sms: str | None = None,
        to: str | None = None,
        **options,
    ):
        if settings.ENVIRONMENT != "development" or not settings.AWS_ENDPOINT_URL:
            raise CommandError(
                "simulate_inbound only runs on the local stack (ENVIRONMENT=development with AWS_ENDPOINT_URL)"
            )
        if options.get("email"):
            self._email(sender, text, options)
            return
        for kind in ("bounce", "complaint"):
            if options.get(kind):
                self._feedback(kind.capitalize(), options[kind])
                return
        sns = aws.client("sns")
        if subscribe:
            sns.subscribe(
                TopicArn=settings.SNS_TOPIC_ARN,
                Protocol="http" if subscribe.startswith("http:") else "https",
                Endpoint=subscribe,
            )
            self.stdout.write(f"subscribed {subscribe} to {settings.SNS_TOPIC_ARN}")
            return
        if sms is not None:
            self._publish_sms(sns, sms, sender=sender, to=to)
            return
        number = number or settings.WHATSAPP_PHONE_NUMBER_IDS[0]
        if number not in settings.WHATSAPP_PHONE_NUMBER_IDS:
            raise CommandError(
                f"--number {number} is not allowlisted: use one of {', '.join(settings.WHATSAPP_PHONE_NUMBER_IDS)}"
            )
        if options.get("change"):
            self._publish_change(sns, options["change"], options.get("value"), number)
            return
        contact, message = _sender_with_user_id(user_id) if user_id else _sender_with_number(sender)
        wamid = f"wamid.LOCAL{random.getrandbits(96):024X}"
        entry = {
            "id": "365731266123456",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "919876500001", "phone_number_id": "321010217760100"},
                        "contacts": [{"profile": {"name": name or "WhatsApp customer"}, **contact}],
                        "messages": [
                            {
                                **message,
                                "id": wamid,
                                "timestamp": str(int(time.time())),
                                "type": "text",
                                "text": {"body": text},
                            }
                        ],
                    },
                }
            ],
        }
        event = _eum_event(number, entry)
        # No Subject: moto signs a notification without one, and AWS EUM sends none either.
        sns.publish(TopicArn=settings.SNS_TOPIC_ARN, Message=json.dumps(event))
        self.stdout.write(
            f"published {wamid} from {user_id or '+' + message['from']} to {number}: watch the inbox (DM)"
        )

    def _publish_change(self, sns, field: str, value_arg: str | None, number: str) -> None:
        """Meta's change of another field than messages, wrapped as EUM wraps every entry. The
        entry's time is now, so the same value sent twice is two events (as Meta's would be)."""
        if not value_arg:
            raise CommandError("--change needs --value: Meta's `value` object as JSON, or @FILE")
        try:
            raw = Path(value_arg[1:]).read_text() if value_arg.startswith("@") else value_arg
            value = json.loads(raw)
        except OSError as exc:
            raise CommandError(f"--value {value_arg}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"--value is not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise CommandError("--value must be a JSON object (Meta's `value` of the change)")
        entry = {"id": "365731266123456", "time": int(time.time()), "changes": [{"field": field, "value": value}]}
        sns.publish(TopicArn=settings.SNS_TOPIC_ARN, Message=json.dumps(_eum_event(number, entry)))
        self.stdout.write(f"published a {field} change about {number}")

    def _email(self, sender: str, text: str, options: dict) -> None:
        if sender == DEFAULT_SENDER:
            sender = "customer@example.com"
        if "@" not in sender:
            raise CommandError(f"--from {sender!r} is not an email address")
        attachments = [Path(name) for name in options["attach"]]
        for path in attachments:
            if not path.is_file():
                raise CommandError(f"--attach {path}: no such file")
        in_reply_to = options["in_reply_to"]
        if in_reply_to and not in_reply_to.startswith("<"):
            in_reply_to = f"<{in_reply_to}>"
        raw = ses_receiving.mime(
            sender=sender,
            to=settings.EMAIL_RECEIVING_ADDRESSES[0],
            subject=options["subject"],
            text=text,
            attachments=attachments,
            in_reply_to=in_reply_to,
            references=[in_reply_to] if in_reply_to else None,
        )
        body = ses_receiving.receive(raw)
        topic = settings.SES_INBOUND_TOPIC_ARN or settings.SNS_TOPIC_ARN
        # No Subject: moto signs a notification without one (SES's own notifications carry one).
        aws.client("sns").publish(TopicArn=topic, Message=body)
        ses_id = json.loads(body)["mail"]["messageId"]
        self.stdout.write(f"published mail {ses_id} from {sender} to {settings.EMAIL_RECEIVING_ADDRESSES[0]}")

    def _feedback(self, kind: str, address: str) -> None:
        if "@" not in address:
            raise CommandError(f"--{kind.lower()} {address!r} is not an email address")
        body = ses_feedback.event(kind, address.lower())
        aws.client("sns").publish(TopicArn=settings.SES_EVENTS_TOPIC_ARN or settings.SNS_TOPIC_ARN, Message=body)
        ses_id = json.loads(body)["mail"]["messageId"]
        self.stdout.write(f"published a {kind.lower()} from {address} about mail {ses_id}: see the contact's consent")

    def _publish_sms(self, sns, text: str, *, sender: str, to: str | None) -> None:
        """The JSON AWS End User Messaging SMS publishes for a two-way message
        (fixtures/aws/sms_inbound_two_way.json is AWS's example of it)."""
        to = to or (settings.SMS_NUMBERS[0] if settings.SMS_NUMBERS else "+12125550101")
        for name, number in (("--from", sender), ("--to", to)):
            if not E164_SHAPE.fullmatch(number):
                raise CommandError(f"{name} {number!r} is not a phone number in E.164 form, e.g. +14155550123")
        inbound_id = str(uuid.uuid4())
        message = {
            "originationNumber": sender,
            "destinationNumber": to,
            # AWS names the registered keyword a message matched; the local stack plays the
            # platform's own keywords as registered ones.
            "messageKeyword": text.strip().upper() if keywords.classify("sms", text) else "",
            "messageBody": text,
            "inboundMessageId": inbound_id,
            "previousPublishedMessageId": "",
        }
        sns.publish(TopicArn=settings.SMS_INBOUND_TOPIC_ARN or settings.SNS_TOPIC_ARN, Message=json.dumps(message))
        self.stdout.write(f"published SMS {inbound_id} from {sender} to {to}: {text!r}")


def _eum_event(number: str, entry: dict) -> dict:
    """What EUM publishes for one of Meta's webhook entries about one of our numbers."""
    suffix = number.removeprefix("phone-number-id-")
    return {
        "context": {
            "MetaWabaIds": [
                {
                    "wabaId": "365731266123456",
                    "arn": f"arn:aws:social-messaging:{settings.AWS_REGION}:{settings.AWS_ACCOUNT_ID}:waba/local",
                }
            ],
            "MetaPhoneNumberIds": [
                {
                    "metaPhoneNumberId": "321010217760100",
                    "arn": f"arn:aws:social-messaging:{settings.AWS_REGION}:"
                    f"{settings.AWS_ACCOUNT_ID}:phone-number-id/{suffix}",
                }
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": settings.AWS_ACCOUNT_ID,
        "message_timestamp": datetime.now(UTC).isoformat(),
    }


def _sender_with_number(sender: str) -> tuple[dict, dict]:
    """(the contacts entry, the message's sender fields) of a customer writing from a number. Any
    E.164 shape is played, as WhatsApp sends numbers libphonenumber does not know (docs/design/inbound.md)."""
    if not E164_SHAPE.fullmatch(sender):
        raise CommandError(
            f"--from {sender!r} is not a phone number in E.164 form (+ and 8 to 15 digits), e.g. +919812345670"
        )
    wa_id = sender.lstrip("+")
    return {"wa_id": wa_id}, {"from": wa_id}


def _sender_with_user_id(user_id: str) -> tuple[dict, dict]:
    """The same for a username customer: Meta sends empty number fields and the user id."""
    if not whatsapp_user_id(user_id):
        raise CommandError(f"--user-id {user_id!r} is not a business-scoped user id, e.g. US.13491208655302741918")
    return {"wa_id": "", "user_id": user_id}, {"from": "", "from_user_id": user_id}
