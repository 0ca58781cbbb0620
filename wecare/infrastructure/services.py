"""ECS on Fargate: the cluster, one task definition and service per process (web behind an
Application Load Balancer, each worker service of WORKER_SERVICES, exactly one beat), a one-off
``manage`` task for migrate and bootstrap_aws, and application auto scaling of each worker
service on its queues' depth per task and oldest message age. Every task runs as the existing
role (a parameter): no IAM role is created here."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

from wecare.infrastructure import parameters as p
from wecare.infrastructure.cfn import STACK_NAME, Json, get_att, join, logical_id, ref, sub, var
from wecare.infrastructure.logs import LOG_GROUP_ID
from wecare.infrastructure.queues import queue_id
from wecare.queues import WORKER_SERVICES, WorkerService

CLUSTER_ID = "Cluster"
LOAD_BALANCER_ID = "LoadBalancer"
TARGET_GROUP_ID = "WebTargetGroup"
HTTPS_LISTENER_ID = "HttpsListener"
WEB_PORT = 8000
CONTAINER = "app"
# Fargate's longest stop timeout: a worker finishes its task (acks_late) before it is killed.
STOP_TIMEOUT_SECONDS = 120
# (CPU units, MiB) per process; bulk chunks run 32 provider calls each on threads of their own.
SIZES = {"web": (512, 1024), "beat": (256, 512), "manage": (512, 1024), "bulk": (1024, 2048)}
DEFAULT_SIZE = (512, 1024)


def task_definition_id(name: str) -> str:
    return logical_id(name, "TaskDefinition")


def service_id(name: str) -> str:
    return logical_id(name, "Service")


def _environment(extra: Mapping[str, object]) -> list[Json]:
    values: dict[str, object] = {
        "ENVIRONMENT": ref("Environment"),
        "SEND_MODE": ref("SendMode"),
        "AWS_REGION": ref("AWS::Region"),
        "AWS_ACCOUNT_ID": ref("AWS::AccountId"),
        "DYNAMODB_TABLE_PREFIX": ref(p.TABLE_PREFIX),
        "SQS_QUEUE_PREFIX": ref(p.QUEUE_PREFIX),
        "ALLOWED_HOSTS": ref(p.HOST_NAME),
        "SITE_URL": sub("https://" + var(p.HOST_NAME)),
        "SNS_TOPIC_ARN": ref(p.ALERT_TOPIC),
        "MEDIA_BUCKET": ref("MediaBucket"),
        "REPORT_BUCKET": ref("ReportBucket"),
        "COGNITO_USER_POOL_ID": ref("CognitoUserPoolId"),
        "COGNITO_DOMAIN": ref("CognitoDomain"),
        "OIDC_RP_CLIENT_ID": ref("OidcClientId"),
        "WHATSAPP_PHONE_NUMBER_IDS": {"Fn::Join": [",", ref("WhatsAppPhoneNumberIds")]},
        "SMS_POOL_ID": ref("SmsPoolId"),
        "SES_SENDER_EMAIL": ref("SesSenderEmail"),
        "LOG_GROUP": settings.LOG_GROUP,
        "METRICS_NAMESPACE": settings.METRICS_NAMESPACE,
        **extra,
    }
    return [{"Name": name, "Value": value} for name, value in values.items()]


def task_definition(name: str, command: list[str], environment: Mapping[str, object], *, port: bool = False) -> Json:
    cpu, memory = SIZES.get(name, DEFAULT_SIZE)
    container: Json = {
        "Name": CONTAINER,
        "Image": ref(p.IMAGE),
        "Essential": True,
        "Command": command,
        "Environment": _environment(environment),
        "Secrets": [
            {"Name": "DJANGO_SECRET_KEY", "ValueFrom": ref("SecretKeyArn")},
            {"Name": "OIDC_RP_CLIENT_SECRET", "ValueFrom": ref("OidcClientSecretArn")},
            {"Name": "DATABASE_URL", "ValueFrom": ref("DatabaseUrlArn")},
        ],
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": ref(LOG_GROUP_ID),
                "awslogs-region": ref("AWS::Region"),
                "awslogs-stream-prefix": name,
            },
        },
        "StopTimeout": STOP_TIMEOUT_SECONDS,
    }
    if port:
        container["PortMappings"] = [{"ContainerPort": WEB_PORT, "Protocol": "tcp"}]
    return {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "Family": sub(f"{STACK_NAME}-{name}"),
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": str(cpu),
            "Memory": str(memory),
            "TaskRoleArn": ref(p.TASK_ROLE),
            "ExecutionRoleArn": ref(p.EXECUTION_ROLE),
            "ContainerDefinitions": [container],
        },
    }


def service(name: str, desired: int, *, max_percent: int = 200, min_healthy: int = 100, web: bool = False) -> Json:
    properties: Json = {
        "Cluster": ref(CLUSTER_ID),
        "TaskDefinition": ref(task_definition_id(name)),
        "LaunchType": "FARGATE",
        "DesiredCount": desired,
        "DeploymentConfiguration": {"MaximumPercent": max_percent, "MinimumHealthyPercent": min_healthy},
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED",
                "Subnets": ref(p.SUBNETS),
                "SecurityGroups": ref(p.SERVICE_SECURITY_GROUPS),
            }
        },
    }
    resource: Json = {"Type": "AWS::ECS::Service", "Properties": properties}
    if web:
        properties["LoadBalancers"] = [
            {"ContainerName": CONTAINER, "ContainerPort": WEB_PORT, "TargetGroupArn": ref(TARGET_GROUP_ID)}
        ]
        properties["HealthCheckGracePeriodSeconds"] = 60
        resource["DependsOn"] = [HTTPS_LISTENER_ID]  # a service joins a target group only behind a listener
    return resource


def load_balancer() -> Json:
    return {
        LOAD_BALANCER_ID: {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "application",
                "Scheme": "internet-facing",
                "Subnets": ref(p.LOAD_BALANCER_SUBNETS),
                "SecurityGroups": ref(p.LOAD_BALANCER_SECURITY_GROUPS),
            },
        },
        TARGET_GROUP_ID: {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "Port": WEB_PORT,
                "Protocol": "HTTP",
                "TargetType": "ip",
                "VpcId": ref(p.VPC),
                # /healthz answers any Host over plain HTTP (wecare.middleware.HealthCheckMiddleware).
                "HealthCheckPath": "/healthz",
                "HealthCheckProtocol": "HTTP",
                "Matcher": {"HttpCode": "200"},
            },
        },
        HTTPS_LISTENER_ID: {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref(LOAD_BALANCER_ID),
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "Certificates": [{"CertificateArn": ref(p.CERTIFICATE)}],
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref(TARGET_GROUP_ID)}],
            },
        },
        "HttpListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref(LOAD_BALANCER_ID),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [
                    {
                        "Type": "redirect",
                        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
                    }
                ],
            },
        },
    }


def _queue_metrics(worker: WorkerService, metric: str, stat: str) -> list[Json]:
    return [
        {
            "Id": f"q{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SQS",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "QueueName", "Value": get_att(queue_id(queue), "QueueName")}],
                },
                "Stat": stat,
            },
            "ReturnData": False,
        }
        for index, queue in enumerate(worker.queues)
    ]


def scaling(name: str, worker: WorkerService) -> Json:
    """Scale a worker service between its bounds on two targets: the messages waiting per running
    task, and the age of the oldest one (a few slow tasks hold a short queue back too). Target
    tracking scales out when either is over and in only when both are under."""
    target = logical_id(name, "ScalableTarget")
    queues = " + ".join(f"q{index}" for index in range(len(worker.queues)))
    tasks = {
        "Id": "tasks",
        "MetricStat": {
            "Metric": {
                "Namespace": "ECS/ContainerInsights",
                "MetricName": "RunningTaskCount",
                "Dimensions": [
                    {"Name": "ClusterName", "Value": ref(CLUSTER_ID)},
                    {"Name": "ServiceName", "Value": get_att(service_id(name), "Name")},
                ],
            },
            "Stat": "Average",
        },
        "ReturnData": False,
    }
    ages = ", ".join(f"q{index}" for index in range(len(worker.queues)))

    def policy(kind: str, value: int, metrics: list[Json]) -> Json:
        return {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub(f"{STACK_NAME}-{name}-{kind}"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref(target),
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": value,
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                    "CustomizedMetricSpecification": {"Metrics": metrics},
                },
            },
        }

    return {
        target: {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": join(["service", ref(CLUSTER_ID), get_att(service_id(name), "Name")], "/"),
                "MinCapacity": worker.min_tasks,
                "MaxCapacity": worker.max_tasks,
            },
        },
        logical_id(name, "BacklogScaling"): policy(
            "backlog",
            worker.backlog_per_task,
            [
                *_queue_metrics(worker, "ApproximateNumberOfMessagesVisible", "Sum"),
                tasks,
                {
                    "Id": "backlog",
                    "Label": "messages waiting per task",
                    "Expression": f"({queues}) / IF(tasks > 0, tasks, 1)",
                    "ReturnData": True,
                },
            ],
        ),
        logical_id(name, "AgeScaling"): policy(
            "age",
            worker.oldest_message_seconds,
            [
                *_queue_metrics(worker, "ApproximateAgeOfOldestMessage", "Maximum"),
                {"Id": "age", "Label": "oldest message, seconds", "Expression": f"MAX([{ages}])", "ReturnData": True},
            ],
        ),
    }


def resources() -> Json:
    out: Json = {
        CLUSTER_ID: {
            "Type": "AWS::ECS::Cluster",
            # Container Insights publishes RunningTaskCount, which the backlog-per-task scaling reads.
            "Properties": {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
        },
        **load_balancer(),
        task_definition_id("web"): task_definition("web", ["web"], {}, port=True),
        service_id("web"): service("web", 2, web=True),
        task_definition_id("beat"): task_definition("beat", ["beat"], {}),
        # Exactly one beat, even during a deployment: the old task stops before the new one starts.
        service_id("beat"): service("beat", 1, max_percent=100, min_healthy=0),
        # Not a service: run it as a one-off task (`manage migrate --noinput`, `manage bootstrap_aws`).
        task_definition_id("manage"): task_definition("manage", ["manage", "check", "--deploy"], {}),
    }
    for name, worker in WORKER_SERVICES.items():
        environment = {
            "WORKER_QUEUES": worker.queue_list,
            "WORKER_POOL": worker.pool,
            "WORKER_CONCURRENCY": str(worker.concurrency),
        }
        out[task_definition_id(name)] = task_definition(name, ["worker"], environment)
        out[service_id(name)] = service(name, worker.min_tasks)
        out.update(scaling(name, worker))
    return out
