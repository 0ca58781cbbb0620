"""CloudWatch metrics in Embedded Metric Format (EMF).

An EMF record is a JSON log line that CloudWatch turns into metrics, so emitting a metric costs
no API call and no extra dependency: the same stdout pipeline as the logs carries it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from django.conf import settings

UNITS = {"Count", "Milliseconds", "Seconds", "Bytes", "Count/Second", "Percent", "None"}


def emf_record(name: str, value: float, unit: str = "Count", **dimensions: str) -> dict[str, Any]:
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r} is not one of {sorted(UNITS)}")
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "LogGroupName": settings.LOG_GROUP,
            "CloudWatchMetrics": [
                {
                    "Namespace": settings.METRICS_NAMESPACE,
                    "Dimensions": [sorted(dimensions)] if dimensions else [[]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        name: value,
        **dimensions,
        "environment": settings.ENVIRONMENT,
    }


def emit(name: str, value: float = 1, unit: str = "Count", *, stream: TextIO | None = None, **dimensions: str) -> None:
    """Write one metric as an EMF line, e.g. ``emit("MessagesSent", channel="sms")``."""
    out = stream or sys.stdout
    out.write(json.dumps(emf_record(name, value, unit, **dimensions)) + "\n")
    out.flush()
