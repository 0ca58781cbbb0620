"""The WhatsApp account's health as Meta reports it through the webhook: template status and
quality (template_health), a number's quality and the portfolio's messaging limit
(number_health), account events and display-name decisions (account_events). Each field maps to
the function that records it once and alerts what needs a person. The design:
docs/design/account-health.md.
"""

from __future__ import annotations

from collections.abc import Callable

from messaging.inbound import account_events, number_health, template_health
from messaging.inbound.events import FieldChange

APPLY: dict[str, Callable[[FieldChange], str]] = {
    "message_template_status_update": template_health.apply_status,
    "message_template_quality_update": template_health.apply_quality,
    "phone_number_quality_update": number_health.apply,
    "phone_number_name_update": account_events.apply_name_update,
    "account_update": account_events.apply_account_update,
}
FIELDS = tuple(APPLY)


def apply(change: FieldChange) -> str:
    return APPLY[change.field](change)
