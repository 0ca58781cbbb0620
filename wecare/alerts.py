"""Critical errors a person must act on, published to the SNS topic and listed on the Alerts page:
a task parked on a DLQ, a provider refusing our credentials, a template Meta paused or disabled,
a number whose quality turned red, a bulk job that failed. One alert per kind and subject per
period (deduplicated across processes), each with a link to the page that explains it.

SKELETON (issue 15, part 3): the interface other parts call; ``raise_alert`` only logs for now.
"""

from __future__ import annotations

import logging
from enum import StrEnum

log = logging.getLogger(__name__)


class Kind(StrEnum):
    DLQ_PARKED = "dlq.parked"  # subject: the queue
    PROVIDER_AUTH = "provider.auth"  # subject: the service (socialmessaging, sms, ses, bedrock)
    TEMPLATE_UNUSABLE = "whatsapp.template"  # subject: the template name and language
    QUALITY_RED = "whatsapp.quality"  # subject: the phone-number id
    ACCOUNT_UPDATE = "whatsapp.account"  # subject: the WABA id
    NUMBER_NAME = "whatsapp.number-name"  # subject: the phone-number id
    TIER_USE = "whatsapp.tier"  # subject: the portfolio
    JOB_FAILED = "bulk.job"  # subject: the job id


def raise_alert(kind: Kind, subject: str, summary: str, *, link: str = "") -> bool:
    """Record and publish an alert unless one of this kind and subject was raised within the
    period; True when this call published it. Never raises: an alert that cannot be published is
    logged, and the caller's own work goes on."""
    log.error("alert", extra={"kind": str(kind), "subject": subject, "summary": summary, "link": link})
    return False
