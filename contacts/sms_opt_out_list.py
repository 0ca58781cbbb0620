"""The SMS opt-out list (AWS End User Messaging SMS, the list ``SMS_OPT_OUT_LIST`` names), kept in
agreement with contacts' SMS consent: a customer's opt-out word puts the number on it, their opt-in
word or a person's re-opt-in with evidence takes it off. AWS refuses to send to a number on it.
docs/design/contacts.md, "The SMS opt-out list".

The calls go to AWS (the local fake on the dev stack) whatever SEND_MODE says: they send nothing to
anyone, and a DRY_RUN environment must still learn who opted out.
"""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.conf import settings

from wecare.aws import client

SERVICE = "pinpoint-sms-voice-v2"


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def holds(number: str) -> bool:
    """Whether ``number`` is on the list."""
    try:
        answer = client(SERVICE).describe_opted_out_numbers(
            OptOutListName=settings.SMS_OPT_OUT_LIST, OptedOutNumbers=[number]
        )
    except ClientError as exc:
        if _not_found(exc):  # AWS answers a number that is not on the list with ResourceNotFound
            return False
        raise
    return bool(answer.get("OptedOutNumbers"))


def add(number: str) -> None:
    """Put ``number`` on the list (a repeat is harmless: AWS keeps one entry)."""
    client(SERVICE).put_opted_out_number(OptOutListName=settings.SMS_OPT_OUT_LIST, OptedOutNumber=number)


def remove(number: str) -> bool:
    """Take ``number`` off the list; False when it was not on it."""
    try:
        client(SERVICE).delete_opted_out_number(OptOutListName=settings.SMS_OPT_OUT_LIST, OptedOutNumber=number)
    except ClientError as exc:
        if _not_found(exc):
            return False
        raise
    return True
