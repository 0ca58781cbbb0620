"""The CloudWatch dashboard: what the alarms watch, drawn. Sends and failures per channel, each
channel's failure rate, dead-letter queue depth, the work queues' oldest message, the WhatsApp
tier's use, worker heartbeats, the load balancer's requests and 5xx, and bulk throughput."""

from __future__ import annotations

import json

from django.conf import settings

from wecare.infrastructure.alarms import CHANNELS, MIN_VOLUME, TIER_PORTFOLIO
from wecare.infrastructure.cfn import Json, sub, var
from wecare.infrastructure.parameters import QUEUE_PREFIX
from wecare.infrastructure.services import LOAD_BALANCER_ID
from wecare.queues import DEAD_LETTER_QUEUES, WORK_QUEUES, WORKER_SERVICES

DASHBOARD_ID = "Dashboard"
WIDTH, HEIGHT = 12, 6


def _queue(name: str) -> str:
    # Resolved by Fn::Sub over the whole body, as are ${AWS::Region} and the load balancer's name.
    return var(QUEUE_PREFIX) + name


def _widget(index: int, title: str, metrics: list, *, stat: str = "Sum", period: int = 300, **extra: object) -> Json:
    return {
        "type": "metric",
        "x": (index % 2) * WIDTH,
        "y": (index // 2) * HEIGHT,
        "width": WIDTH,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stat": stat,
            "period": period,
            "metrics": metrics,
            **extra,
        },
    }


def _failure_rate_metrics() -> list:
    ns = settings.METRICS_NAMESPACE
    metrics: list = []
    for channel in CHANNELS:
        ids = {name: f"{name}_{channel}" for name in ("sent", "failed", "bulksent", "bulkfailed", "undelivered")}
        metrics += [
            [ns, "MessagesSent", "channel", channel, {"id": ids["sent"], "visible": False}],
            [ns, "MessagesFailed", "channel", channel, {"id": ids["failed"], "visible": False}],
            [ns, "BulkSent", "channel", channel, {"id": ids["bulksent"], "visible": False}],
            [ns, "BulkFailed", "channel", channel, {"id": ids["bulkfailed"], "visible": False}],
            [ns, "MessagesDeliveryFailed", "channel", channel, {"id": ids["undelivered"], "visible": False}],
        ]
        attempts = " + ".join(f"FILL({ids[n]}, 0)" for n in ("sent", "failed", "bulksent", "bulkfailed"))
        failures = " + ".join(f"FILL({ids[n]}, 0)" for n in ("failed", "bulkfailed", "undelivered"))
        metrics.append(
            [
                {
                    "expression": f"IF({attempts} >= {MIN_VOLUME}, 100 * ({failures}) / ({attempts}), 0)",
                    "label": channel,
                    "id": f"rate_{channel}",
                }
            ]
        )
    return metrics


def body() -> str:
    ns = settings.METRICS_NAMESPACE
    lb = var(f"{LOAD_BALANCER_ID}.LoadBalancerFullName")
    widgets = [
        _widget(
            0,
            "Messages sent per channel (single and bulk)",
            [[ns, name, "channel", channel] for channel in CHANNELS for name in ("MessagesSent", "BulkSent")],
            stacked=True,
        ),
        _widget(
            1,
            "Failures per channel",
            [
                [ns, name, "channel", channel]
                for channel in CHANNELS
                for name in ("MessagesFailed", "BulkFailed", "MessagesDeliveryFailed")
            ],
        ),
        _widget(2, "Failure rate per channel, % (alarm above 1)", _failure_rate_metrics()),
        _widget(
            3,
            "Dead-letter queues, messages (alarm above 10)",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", _queue(dlq)] for dlq in DEAD_LETTER_QUEUES],
            stat="Maximum",
        ),
        _widget(
            4,
            "Work queues, oldest message (s)",
            [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", _queue(queue)] for queue in WORK_QUEUES],
            stat="Maximum",
        ),
        _widget(
            5,
            "WhatsApp tier use, % (alarm above 80)",
            [[ns, "WhatsAppTierUse", "portfolio", TIER_PORTFOLIO]],
            stat="Maximum",
        ),
        _widget(
            6,
            "Worker heartbeats per minute",
            [[ns, "WorkerHeartbeat", "service", service] for service in WORKER_SERVICES],
            period=60,
        ),
        _widget(
            7,
            "Web: requests and 5xx answers",
            [
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb],
            ],
        ),
        _widget(
            8,
            "Bulk: throughput (messages/s) and stalled jobs",
            [
                *([ns, "BulkJobThroughput", "channel", channel, {"stat": "Average"}] for channel in CHANNELS),
                [ns, "BulkJobsStalled", {"stat": "Maximum"}],
            ],
        ),
        _widget(
            9,
            "Dead-lettered tasks per queue",
            [[ns, "DeadLettered", "Queue", dlq] for dlq in DEAD_LETTER_QUEUES],
        ),
    ]
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def resources() -> Json:
    return {
        DASHBOARD_ID: {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {"DashboardName": sub("${AWS::StackName}"), "DashboardBody": sub(body())},
        }
    }
