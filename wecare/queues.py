"""The SQS queues and how Celery reaches them.

Each work queue has a dead-letter queue; bootstrap creates both with a RedrivePolicy, so a message
that keeps failing moves to its DLQ after ``MAX_RECEIVE_COUNT`` receives instead of being lost or
retried for ever. Celery uses kombu's SQS transport with *predefined* queues: it never creates or
lists queues itself, which is what a locked-down production role allows.
"""

from __future__ import annotations

from urllib.parse import urlparse

MAX_RECEIVE_COUNT = 5

# work queue -> its dead-letter queue
WORK_QUEUES: dict[str, str] = {
    "default": "default-dlq",
    "inbound-queue": "inbound-dlq",
    "outbound-queue": "outbound-dlq",
    "bulk-queue": "bulk-dlq",
    "ai-queue": "ai-dlq",  # suggested replies: each task waits seconds on Bedrock (a threads pool)
}
DEAD_LETTER_QUEUES = tuple(WORK_QUEUES.values())
ALL_QUEUES = tuple(WORK_QUEUES) + DEAD_LETTER_QUEUES


def queue_url(name: str, *, endpoint_url: str | None, region: str, account_id: str, prefix: str) -> str:
    base = endpoint_url.rstrip("/") if endpoint_url else f"https://sqs.{region}.amazonaws.com"
    return f"{base}/{account_id}/{prefix}{name}"


def celery_broker_settings(
    *, broker_url: str, endpoint_url: str | None, region: str, account_id: str, prefix: str
) -> tuple[str, dict]:
    """Return (broker URL, transport options).

    Celery knows the queues by their logical names; the prefix only changes the physical SQS
    name in the URL, so task routing never has to know about it.
    """
    if broker_url and not broker_url.startswith("sqs://"):
        return broker_url, {}  # e.g. redis://… — queues are then the broker's business
    options: dict = {
        "region": region,
        "visibility_timeout": 300,
        "wait_time_seconds": 1,
        "polling_interval": 0.5,
        "predefined_queues": {
            name: {
                "url": queue_url(name, endpoint_url=endpoint_url, region=region, account_id=account_id, prefix=prefix)
            }
            for name in WORK_QUEUES
        },
    }
    if endpoint_url:
        parsed = urlparse(endpoint_url)
        options["is_secure"] = parsed.scheme == "https"
        return f"sqs://@{parsed.hostname}:{parsed.port}", options
    return "sqs://", options
