"""The SQS queues and how Celery reaches them.

Each work queue has a dead-letter queue; bootstrap creates both with a RedrivePolicy, so a message
that keeps failing moves to its DLQ after ``MAX_RECEIVE_COUNT`` receives instead of being lost or
retried for ever. Celery uses kombu's SQS transport with *predefined* queues: it never creates or
lists queues itself, which is what a locked-down production role allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

MAX_RECEIVE_COUNT = 5
# A task runs at most this long before SQS hands its message to another worker (acks_late).
VISIBILITY_TIMEOUT_SECONDS = 300
# A parked message waits this long on its DLQ for someone to replay it (SQS's maximum).
DLQ_RETENTION_SECONDS = 14 * 24 * 3600

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


@dataclass(frozen=True)
class WorkerService:
    """One kind of Celery worker: the queues it serves and how it runs them. The dev stack
    (localaws/devstack.py) and the infrastructure template (wecare/infrastructure/services.py)
    both start their workers from WORKER_SERVICES, so a queue is served the same way everywhere."""

    queues: tuple[str, ...]
    pool: str  # "prefork" (processes) or "threads" (work that waits on a provider, not the CPU)
    concurrency: int
    # Deployed: tasks of this service, scaled on its queues' depth per task and oldest message age.
    min_tasks: int = 1
    max_tasks: int = 4
    backlog_per_task: int = 100
    oldest_message_seconds: int = 120

    @property
    def queue_list(self) -> str:
        return ",".join(self.queues)


# Bulk has a service of its own so a campaign never starves inbound work (docs/deployment.md,
# "Worker services"); single sends and suggested replies wait on a provider, so they run threads.
WORKER_SERVICES: dict[str, WorkerService] = {
    "worker": WorkerService(("default", "inbound-queue"), "prefork", 2, max_tasks=4),
    "outbound": WorkerService(("outbound-queue",), "threads", 32, max_tasks=4),
    # 2-5 processes (bulk chunks run their own threads; the rate limits, not the processes, set the
    # pace): 3, and at most 2 tasks, keeps a campaign at 6 chunks in flight.
    "bulk": WorkerService(("bulk-queue",), "prefork", 3, max_tasks=2, backlog_per_task=20, oldest_message_seconds=600),
    "ai": WorkerService(("ai-queue",), "threads", 40, max_tasks=4, oldest_message_seconds=60),
}
HEARTBEAT_SECONDS = 60


def heartbeat_schedule() -> dict[str, dict]:
    """Beat entries: one heartbeat a minute on each worker service's first queue, so the alarm
    "no heartbeat for 5 minutes" (wecare/infrastructure/alarms.py) names the service that stopped.
    A heartbeat not taken within two minutes expires unrun: a late one proves nothing."""
    return {
        f"heartbeat-{name}": {
            "task": "wecare.heartbeat",
            "schedule": HEARTBEAT_SECONDS,
            "args": (name,),
            "options": {"queue": service.queues[0], "expires": 2 * HEARTBEAT_SECONDS},
        }
        for name, service in WORKER_SERVICES.items()
    }


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
        "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
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
