"""The WhatsApp tier's use as a CloudWatch metric: beat asks once a minute, and the EMF metric
``WhatsAppTierUse`` (percent of the limit, dimension ``portfolio``) feeds the "tier use above
80 %" alarm (docs/design/operations.md, "Infrastructure"). The 80 % SNS alert itself stays in
tier.py, where a claim crosses it; this metric lets CloudWatch draw and alarm on the level."""

from __future__ import annotations

from celery import shared_task

from messaging.outbound import tier
from wecare.metrics import emit


def measure(portfolio: str = tier.PORTFOLIO) -> float:
    """Emit and return the portfolio's use of its limit, in percent."""
    used, limit = tier.tier_status(portfolio)
    percent = round(100 * used / limit, 1)
    emit("WhatsAppTierUse", percent, "Percent", portfolio=portfolio)
    return percent


@shared_task(name="messaging.measure_tier_use", ignore_result=True, expires=120)
def measure_tier_use() -> float:
    return measure()
