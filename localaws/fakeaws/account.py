"""The WhatsApp Business Account (WABA) and phone numbers the fake pretends are linked.

The phone number ids are the app's own allowlist (WHATSAPP_PHONE_NUMBER_IDS, read from the same
environment variable with the same defaults as wecare/settings.py; the fake does not import Django
so it can run as a bare process). A send from any other number is refused with
ResourceNotFoundException, as AWS refuses a number that is not linked to the account.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Same defaults as WHATSAPP_PHONE_NUMBER_IDS in wecare/settings.py (a test checks they agree).
DEFAULT_PHONE_NUMBER_IDS = (
    "phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54",
    "phone-number-id-1447bc72d1b040f4bf2341c9e04b2e06",
)
ACCOUNT_ID = "123456789012"  # moto's account, as on the rest of the local stack
# The display names Meta approved for the linked numbers, in the allowlist's order; a number past
# these is named after the business alone. The demo's pages show them (docs/design/business-numbers.md).
DISPLAY_NAMES = ("WECARE.DIGITAL Sales", "WECARE.DIGITAL Support")
BUSINESS_NAME = "WECARE.DIGITAL"


@dataclass(frozen=True)
class PhoneNumber:
    phone_number_id: str
    arn: str
    phone_number: str
    meta_phone_number_id: str
    display_name: str = BUSINESS_NAME
    # As Meta writes it for people ("+1 415-555-0000"); phone_number is E.164.
    display_phone_number: str = ""

    def summary(self) -> dict:
        """WhatsAppPhoneNumberSummary / WhatsAppPhoneNumberDetail (the same members in the model)."""
        return {
            "arn": self.arn,
            "phoneNumber": self.phone_number,
            "phoneNumberId": self.phone_number_id,
            "metaPhoneNumberId": self.meta_phone_number_id,
            "displayPhoneNumberName": self.display_name,
            "displayPhoneNumber": self.display_phone_number or self.phone_number,
            "qualityRating": "GREEN",
        }


@dataclass(frozen=True)
class LinkedAccount:
    region: str
    id: str = "waba-7d0a3c5e9f1b4e2a8c6d0f1e2a3b4c5d"
    meta_waba_id: str = "102290129340398"
    link_date: datetime = datetime(2024, 10, 1, tzinfo=UTC)
    phone_numbers: tuple[PhoneNumber, ...] = field(default_factory=tuple)

    @property
    def arn(self) -> str:
        return f"arn:aws:social-messaging:{self.region}:{ACCOUNT_ID}:waba/{self.id.removeprefix('waba-')}"

    def owns(self, waba: str) -> bool:
        """`id` members accept the WABA's id or its ARN."""
        return waba in (self.id, self.arn)

    def phone(self, origination: str) -> PhoneNumber | None:
        """`originationPhoneNumberId` accepts the number's id or its ARN."""
        return next((p for p in self.phone_numbers if origination in (p.phone_number_id, p.arn)), None)

    def summary(self) -> dict:
        return {
            "arn": self.arn,
            "id": self.id,
            "wabaId": self.meta_waba_id,
            "registrationStatus": "COMPLETE",
            "linkDate": self.link_date,
            "wabaName": "WECARE.DIGITAL",
            "eventDestinations": [
                {"eventDestinationArn": f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:base-wecare-digital"}
            ],
        }

    def details(self) -> dict:
        return {**self.summary(), "phoneNumbers": [p.summary() for p in self.phone_numbers]}


def from_environment(environ: dict[str, str] | None = None) -> LinkedAccount:
    environ = dict(os.environ if environ is None else environ)
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    raw_ids = environ.get("WHATSAPP_PHONE_NUMBER_IDS", "")
    ids = [i.strip() for i in raw_ids.split(",") if i.strip()] or list(DEFAULT_PHONE_NUMBER_IDS)
    phones = []
    for index, phone_id in enumerate(ids):
        suffix = re.sub(r"[^0-9a-zA-Z]", "", phone_id.removeprefix("phone-number-id-")) or f"number{index}"
        phones.append(
            PhoneNumber(
                phone_number_id=phone_id,
                arn=f"arn:aws:social-messaging:{region}:{ACCOUNT_ID}:phone-number-id/{suffix}",
                phone_number=f"+1415555{index:04d}",
                meta_phone_number_id=str(301234567890000 + index),
                display_name=DISPLAY_NAMES[index] if index < len(DISPLAY_NAMES) else BUSINESS_NAME,
                display_phone_number=f"+1 415-555-{index:04d}",
            )
        )
    return LinkedAccount(region=region, phone_numbers=tuple(phones))
