"""CloudWatch alarms, each notifying the existing SNS topic (a parameter) and naming its runbook
(docs/runbooks/alarms.md): a dead-letter queue deeper than 10, a channel's failure rate above
1 %, the WhatsApp tier above 80 % used, the web's 5xx rate above 1 %, a worker service silent for
5 minutes, a running bulk job with no progress for 10 minutes. The metrics are the EMF metrics the
app writes (wecare/metrics.py callers), with their exact names and dimensions."""

from __future__ import annotations

from django.conf import settings

from wecare.infrastructure import parameters as p
from wecare.infrastructure.cfn import STACK_NAME, Json, get_att, logical_id, ref, sub
from wecare.infrastructure.queues import queue_id
from wecare.infrastructure.services import LOAD_BALANCER_ID
from wecare.queues import DEAD_LETTER_QUEUES, WORKER_SERVICES

# The channels messaging sends on (messaging.channels.Channel; a test holds the two equal: wecare
# sits below messaging and cannot import it).
CHANNELS = ("whatsapp", "sms", "email")
# The tier's one business portfolio (messaging.outbound.tier.PORTFOLIO; a test holds them equal).
TIER_PORTFOLIO = "default"
RUNBOOK = "docs/runbooks/alarms.md"

DLQ_DEPTH = 10
FAILURE_RATE_PERCENT = 1
WEB_5XX_PERCENT = 1
# A rate over a handful of sends is noise: 1 failure in 5 is not "above 1 %" in any useful sense.
MIN_VOLUME = 20
TIER_USE_PERCENT = 80
HEARTBEAT_SILENT_MINUTES = 5
BULK_STALLED_JOBS = 0
PERIOD = 300


def _alarm(name: str, anchor: str, description: str, properties: Json) -> Json:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": sub(f"{STACK_NAME}-{name}"),
            "AlarmDescription": f"{description} Runbook: {RUNBOOK}#{anchor}",
            "AlarmActions": [ref(p.ALERT_TOPIC)],
            **properties,
        },
    }


def _app_metric(name: str, **dimensions: str) -> Json:
    metric: Json = {"Namespace": settings.METRICS_NAMESPACE, "MetricName": name}
    if dimensions:
        metric["Dimensions"] = [{"Name": key, "Value": value} for key, value in dimensions.items()]
    return metric


def _stat(metric_id: str, metric: Json, stat: str = "Sum") -> Json:
    return {"Id": metric_id, "MetricStat": {"Metric": metric, "Period": PERIOD, "Stat": stat}, "ReturnData": False}


def dead_letter_queues() -> Json:
    return {
        logical_id(dlq, "DepthAlarm"): _alarm(
            f"{dlq}-depth",
            "dead-letter-queue-deeper-than-10",
            f"More than {DLQ_DEPTH} messages parked on {dlq}.",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": get_att(queue_id(dlq), "QueueName")}],
                "Statistic": "Maximum",
                "Period": PERIOD,
                "EvaluationPeriods": 1,
                "Threshold": DLQ_DEPTH,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
        for dlq in DEAD_LETTER_QUEUES
    }


def failure_rate_metrics(channel: str) -> list[Json]:
    """Failed / attempted sends of ``channel`` in percent: single sends (MessagesSent,
    MessagesFailed from messaging/outbound/send.py), bulk sends (BulkSent, BulkFailed from
    bulk/sending.py) and messages the provider reported undelivered after they were sent
    (MessagesDeliveryFailed from the status handlers)."""
    metrics = [
        _stat("sent", _app_metric("MessagesSent", channel=channel)),
        _stat("failed", _app_metric("MessagesFailed", channel=channel)),
        _stat("bulksent", _app_metric("BulkSent", channel=channel)),
        _stat("bulkfailed", _app_metric("BulkFailed", channel=channel)),
        _stat("undelivered", _app_metric("MessagesDeliveryFailed", channel=channel)),
    ]
    return [
        *metrics,
        {
            "Id": "attempts",
            "Expression": "FILL(sent, 0) + FILL(failed, 0) + FILL(bulksent, 0) + FILL(bulkfailed, 0)",
            "ReturnData": False,
        },
        {
            "Id": "failures",
            "Expression": "FILL(failed, 0) + FILL(bulkfailed, 0) + FILL(undelivered, 0)",
            "ReturnData": False,
        },
        {
            "Id": "rate",
            "Label": f"{channel} failure rate, %",
            "Expression": f"IF(attempts >= {MIN_VOLUME}, 100 * failures / attempts, 0)",
            "ReturnData": True,
        },
    ]


def failure_rates() -> Json:
    return {
        logical_id(channel, "FailureRateAlarm"): _alarm(
            f"{channel}-failure-rate",
            "failure-rate-above-1-percent",
            f"More than {FAILURE_RATE_PERCENT} % of {channel} messages failed (at least {MIN_VOLUME} in 5 minutes).",
            {
                "Metrics": failure_rate_metrics(channel),
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "Threshold": FAILURE_RATE_PERCENT,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
        for channel in CHANNELS
    }


def tier_use() -> Json:
    return {
        "WhatsAppTierUseAlarm": _alarm(
            "whatsapp-tier-use",
            "whatsapp-tier-above-80-percent",
            f"More than {TIER_USE_PERCENT} % of the WhatsApp messaging limit used in the moving 24 hours.",
            {
                **_app_metric("WhatsAppTierUse", portfolio=TIER_PORTFOLIO),
                "Statistic": "Maximum",
                "Period": PERIOD,
                "EvaluationPeriods": 1,
                "Threshold": TIER_USE_PERCENT,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
    }


def web_5xx_metrics() -> list[Json]:
    def alb(metric_id: str, name: str) -> Json:
        metric = {
            "Namespace": "AWS/ApplicationELB",
            "MetricName": name,
            "Dimensions": [{"Name": "LoadBalancer", "Value": get_att(LOAD_BALANCER_ID, "LoadBalancerFullName")}],
        }
        return _stat(metric_id, metric)

    return [
        alb("requests", "RequestCount"),
        alb("target5xx", "HTTPCode_Target_5XX_Count"),
        alb("elb5xx", "HTTPCode_ELB_5XX_Count"),
        {
            "Id": "rate",
            "Label": "5xx answers, % of requests",
            "Expression": f"IF(requests >= {MIN_VOLUME}, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)",
            "ReturnData": True,
        },
    ]


def web_5xx() -> Json:
    return {
        "Web5xxRateAlarm": _alarm(
            "web-5xx-rate",
            "web-5xx-rate-above-1-percent",
            f"More than {WEB_5XX_PERCENT} % of requests through the load balancer answered 5xx.",
            {
                "Metrics": web_5xx_metrics(),
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "Threshold": WEB_5XX_PERCENT,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
    }


def heartbeats() -> Json:
    """A service that writes no WorkerHeartbeat (wecare/heartbeat.py) for five one-minute periods:
    its workers are gone or stuck, or beat is. No data is the very thing watched: breaching."""
    return {
        logical_id(service, "HeartbeatAlarm"): _alarm(
            f"{service}-heartbeat",
            "no-worker-heartbeat-for-5-minutes",
            f"No heartbeat from the {service} worker service for {HEARTBEAT_SILENT_MINUTES} minutes.",
            {
                **_app_metric("WorkerHeartbeat", service=service),
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": HEARTBEAT_SILENT_MINUTES,
                "DatapointsToAlarm": HEARTBEAT_SILENT_MINUTES,
                "Threshold": 1,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
            },
        )
        for service in WORKER_SERVICES
    }


def bulk_stalled() -> Json:
    """BulkJobsStalled, written by each bulk sweep (bulk/sweep.py, every 5 minutes)."""
    return {
        "BulkJobStalledAlarm": _alarm(
            "bulk-job-stalled",
            "bulk-job-with-no-progress-for-10-minutes",
            "A running bulk job has made no progress for 10 minutes.",
            {
                **_app_metric("BulkJobsStalled"),
                "Statistic": "Maximum",
                "Period": PERIOD,
                "EvaluationPeriods": 1,
                "Threshold": BULK_STALLED_JOBS,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
    }


def resources() -> Json:
    return {**dead_letter_queues(), **failure_rates(), **tier_use(), **web_5xx(), **heartbeats(), **bulk_stalled()}
