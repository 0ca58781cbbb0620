"""When AWS refuses an SMS because the number is on the SMS opt-out list, the platform's consent
learns it: the contact's SMS opt-in goes off (source "sms_optout_list", the provider as actor), so
the next send is refused by the gate before any provider call. docs/design/contacts.md, "The SMS
opt-out list".
"""

from __future__ import annotations

import logging

from contacts import consent
from contacts.models import Contact
from messaging.outbound.senders import SendError
from messaging.outbound.senders.sms import OPTED_OUT
from wecare.errors import Conflict, NotFound

log = logging.getLogger(__name__)


def note_refusal(contact: Contact, message_id: str, error: SendError) -> bool:
    """True if ``error`` was the opt-out list's refusal and the contact's SMS consent is now off."""
    if error.details.get("code") != OPTED_OUT:
        return False
    try:
        consent.change(
            contact,
            "sms",
            False,
            source="sms_optout_list",
            actor=consent.PROVIDER,
            evidence={"messageId": message_id, "reason": OPTED_OUT},
        )
    except (NotFound, Conflict) as exc:
        # Deleted meanwhile, or changing under us: the message still fails; AWS keeps refusing.
        log.warning("sms opt-out not recorded", extra={"contact_id": contact.contactId, "reason": str(exc)})
        return False
    log.info("sms consent off: number on the opt-out list", extra={"contact_id": contact.contactId})
    return True
