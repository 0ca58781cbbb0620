"""The WhatsApp account's health as Meta reports it through the webhook: template status and
quality, a number's quality and messaging limit, account and display-name updates.

SKELETON (issue 15, part 5): not built yet; every such change is logged and counted "ignored".
"""

from __future__ import annotations

import logging

from messaging.inbound.events import FieldChange

log = logging.getLogger(__name__)

FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "phone_number_quality_update",
    "phone_number_name_update",
    "account_update",
)


def apply(change: FieldChange) -> str:
    log.info("account health change not handled yet", extra={"field": change.field})
    return "ignored"
