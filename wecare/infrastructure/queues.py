"""The SQS work queues and their dead-letter queues (WORK_QUEUES), with the visibility timeout,
retention and redrive policy bootstrap_aws gives them."""

from __future__ import annotations

from wecare.infrastructure.cfn import Json, get_att, logical_id, sub, var
from wecare.infrastructure.parameters import QUEUE_PREFIX
from wecare.queues import (
    DEAD_LETTER_QUEUES,
    DLQ_RETENTION_SECONDS,
    MAX_RECEIVE_COUNT,
    VISIBILITY_TIMEOUT_SECONDS,
    WORK_QUEUES,
)


def queue_id(name: str) -> str:
    """Logical ids: inbound-queue -> InboundQueue, inbound-dlq -> InboundDlq, default -> DefaultQueue."""
    return logical_id(name) if name.endswith(("-queue", "-dlq")) else logical_id(name, "Queue")


def queue_name(name: str) -> Json:
    """The queue's physical name: the environment's prefix + its logical name, as Celery's URLs say."""
    return sub(var(QUEUE_PREFIX) + name)


# Queues hold work (and parked work): deleting or replacing the stack leaves them, and a queue
# bootstrap_aws made earlier can be imported into the stack (an import needs a DeletionPolicy).
KEEP = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def resources() -> Json:
    queues: Json = {}
    for name in DEAD_LETTER_QUEUES:
        queues[queue_id(name)] = {
            "Type": "AWS::SQS::Queue",
            **KEEP,
            "Properties": {"QueueName": queue_name(name), "MessageRetentionPeriod": DLQ_RETENTION_SECONDS},
        }
    for name, dlq in WORK_QUEUES.items():
        queues[queue_id(name)] = {
            "Type": "AWS::SQS::Queue",
            **KEEP,
            "Properties": {
                "QueueName": queue_name(name),
                "VisibilityTimeout": VISIBILITY_TIMEOUT_SECONDS,
                "RedrivePolicy": {
                    "deadLetterTargetArn": get_att(queue_id(dlq), "Arn"),
                    "maxReceiveCount": MAX_RECEIVE_COUNT,
                },
            },
        }
    return queues
