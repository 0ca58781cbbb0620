"""The infrastructure template (wecare/infrastructure, docs/design/operations.md): lint-clean,
derived from the tables bootstrap really creates, deployable to moto's CloudFormation with the app
then finding every table and queue it needs, and each alarm watching the metric the app writes."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from contacts import actions
from localaws.devstack import WORKERS
from messaging.channels import Channel
from messaging.outbound import tier_metric
from messaging.outbound.tier import ALERT_AT, PORTFOLIO
from wecare.aws import client
from wecare.bootstrap import bootstrap
from wecare.dynamo import ALL_MODELS
from wecare.heartbeat import heartbeat
from wecare.infrastructure import alarms
from wecare.infrastructure.tables import table_id
from wecare.infrastructure.template import build, render
from wecare.queues import DEAD_LETTER_QUEUES, WORK_QUEUES, WORKER_SERVICES

ROOT = Path(__file__).resolve().parents[2]

# moto's CloudFormation (moto/cloudformation/parsing.py and its CloudFormationModel subclasses)
# implements no CloudWatch alarm and no application auto scaling: it would skip them with a warning.
# The moto deployment leaves them out; cfn-lint checks them, and the tests below assert each alarm.
MOTO_LACKS = {
    "AWS::CloudWatch::Alarm",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
}


@pytest.fixture(scope="module")
def template() -> dict:
    return build()


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_the_template_is_cfn_lint_clean(template):
    # Imported here: loading cfn-lint takes a second, which only this test should pay at collection.
    from cfnlint.api import ManualArgs, lint

    findings = lint(render(), config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} {m.message} ({m.path})" for m in findings] == []


def test_each_table_has_the_keys_indexes_and_ttl_bootstrap_created(aws, template):
    """Compared with what bootstrap made in moto from the same models: a table, index or TTL the
    models gain and the template misses fails here."""
    dynamodb = client("dynamodb")
    tables = resources_of(template, "AWS::DynamoDB::Table")
    assert sorted(tables) == sorted(table_id(model) for model in ALL_MODELS)
    for model in ALL_MODELS:
        name = model.Meta.table_name
        real = dynamodb.describe_table(TableName=name)["Table"]
        props = tables[table_id(model)]["Properties"]
        assert props["TableName"] == {"Fn::Sub": "${TablePrefix}" + name}
        assert {tuple(sorted(k.items())) for k in props["KeySchema"]} == {
            tuple(sorted(k.items())) for k in real["KeySchema"]
        }, name
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = {
                i["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in i["KeySchema"]} for i in props.get(kind, [])
            }
            assert indexes == {
                i["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in i["KeySchema"]} for i in real.get(kind, [])
            }, name
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        expected = {"AttributeName": ttl["AttributeName"], "Enabled": True} if "AttributeName" in ttl else None
        assert props.get("TimeToLiveSpecification") == expected, name
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert tables[table_id(model)]["DeletionPolicy"] == "Retain"


def test_queues_redrive_to_their_dead_letter_queues_as_bootstrap_makes_them(template):
    queues = resources_of(template, "AWS::SQS::Queue")
    by_name = {q["Properties"]["QueueName"]["Fn::Sub"].removeprefix("${QueuePrefix}"): q for q in queues.values()}
    assert set(by_name) == set(WORK_QUEUES) | set(DEAD_LETTER_QUEUES)
    ids = {name: logical for logical, q in queues.items() for name in [q["Properties"]["QueueName"]["Fn::Sub"]]}
    for queue, dlq in WORK_QUEUES.items():
        props = by_name[queue]["Properties"]
        assert props["VisibilityTimeout"] == 300
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [ids["${QueuePrefix}" + dlq], "Arn"]},
            "maxReceiveCount": 5,
        }
    for dlq in DEAD_LETTER_QUEUES:
        assert by_name[dlq]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert {q["DeletionPolicy"] for q in queues.values()} == {"Retain"}  # work outlives the stack


def test_the_log_group_keeps_thirty_days_and_every_task_writes_to_it(template, settings):
    [(log_id, group)] = resources_of(template, "AWS::Logs::LogGroup").items()
    assert group["Properties"] == {"LogGroupName": "/base-wecare-digital/common", "RetentionInDays": 30}
    for task in resources_of(template, "AWS::ECS::TaskDefinition").values():
        [container] = task["Properties"]["ContainerDefinitions"]
        assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": log_id}


def test_existing_resources_are_parameters_and_no_role_is_created(template):
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert not [
        k for k in kinds if k.startswith(("AWS::IAM::", "AWS::S3::", "AWS::SNS::", "AWS::Cognito", "AWS::EC2::"))
    ]
    parameters = template["Parameters"]
    for name in (
        "TaskRoleArn",
        "ExecutionRoleArn",
        "ImageUri",
        "VpcId",
        "SubnetIds",
        "CognitoUserPoolId",
        "AlertTopicArn",
        "MediaBucket",
        "ReportBucket",
        "WhatsAppPhoneNumberIds",
        "SmsPoolId",
        "SesSenderEmail",
    ):
        assert name in parameters
    for task in resources_of(template, "AWS::ECS::TaskDefinition").values():
        props = task["Properties"]
        assert (props["TaskRoleArn"], props["ExecutionRoleArn"]) == (
            {"Ref": "TaskRoleArn"},
            {"Ref": "ExecutionRoleArn"},
        )
        assert props["RequiresCompatibilities"] == ["FARGATE"]


def _environment(template: dict, task_id: str) -> dict:
    [container] = template["Resources"][task_id]["Properties"]["ContainerDefinitions"]
    return {e["Name"]: e["Value"] for e in container["Environment"]}


def test_web_sits_behind_the_load_balancer_checked_on_healthz(template):
    [group] = resources_of(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert (group["Properties"]["HealthCheckPath"], group["Properties"]["Matcher"]) == ("/healthz", {"HttpCode": "200"})
    web = template["Resources"]["WebService"]["Properties"]
    assert web["LoadBalancers"][0]["TargetGroupArn"] == {"Ref": "WebTargetGroup"}
    listeners = resources_of(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert sorted(listener["Properties"]["Protocol"] for listener in listeners) == ["HTTP", "HTTPS"]
    beat = template["Resources"]["BeatService"]["Properties"]
    assert beat["DesiredCount"] == 1 and beat["DeploymentConfiguration"]["MaximumPercent"] == 100


def test_worker_services_split_the_queues_as_make_run_does(template):
    served = [queue for service in WORKER_SERVICES.values() for queue in service.queues]
    assert sorted(served) == sorted(WORK_QUEUES)  # every work queue, each by exactly one service
    bulk = [s for s in WORKER_SERVICES.values() if "bulk-queue" in s.queues]
    assert [(s.queues, s.pool) for s in bulk] == [(("bulk-queue",), "prefork")] and 2 <= bulk[0].concurrency <= 5
    for name, service in WORKER_SERVICES.items():
        assert WORKERS[name] == (service.queue_list, ("--pool", service.pool, "-c", str(service.concurrency)))
        environment = _environment(template, f"{name.capitalize()}TaskDefinition")
        assert (environment["WORKER_QUEUES"], environment["WORKER_POOL"], environment["WORKER_CONCURRENCY"]) == (
            service.queue_list,
            service.pool,
            str(service.concurrency),
        )
        target = template["Resources"][f"{name.capitalize()}ScalableTarget"]["Properties"]
        assert (target["MinCapacity"], target["MaxCapacity"]) == (service.min_tasks, service.max_tasks)
        backlog = template["Resources"][f"{name.capitalize()}BacklogScaling"]["Properties"]
        age = template["Resources"][f"{name.capitalize()}AgeScaling"]["Properties"]
        for policy, metric in ((backlog, "ApproximateNumberOfMessagesVisible"), (age, "ApproximateAgeOfOldestMessage")):
            metrics = policy["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]["Metrics"]
            queues = [
                m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]
                for m in metrics
                if m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == metric
            ]
            assert len(queues) == len(service.queues)


# --- alarms -------------------------------------------------------------------------------------


def _alarms(template: dict) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in resources_of(template, "AWS::CloudWatch::Alarm").items()}


def test_every_alarm_notifies_the_topic_parameter_and_names_its_runbook(template):
    found = _alarms(template)
    assert len(found) == len(DEAD_LETTER_QUEUES) + 3 + 1 + 1 + len(WORKER_SERVICES) + 1
    runbook = (ROOT / "docs" / "runbooks" / "alarms.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^## (.+)$", runbook, re.M)}
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlertTopicArn"}], name
        anchor = alarm["AlarmDescription"].rsplit("#", 1)[1]
        assert anchor in anchors, (name, anchor)


def test_each_dead_letter_queue_alarms_above_ten_messages(template):
    found = _alarms(template)
    for dlq in DEAD_LETTER_QUEUES:
        alarm = next(a for a in found.values() if a["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-" + dlq + "-depth"})
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
        )
        [dimension] = alarm["Dimensions"]
        assert template["Resources"][dimension["Value"]["Fn::GetAtt"][0]]["Properties"]["QueueName"] == {
            "Fn::Sub": "${QueuePrefix}" + dlq
        }
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 10)


def test_each_channels_failure_rate_alarms_above_one_percent(template):
    assert set(alarms.CHANNELS) == {str(c) for c in Channel}
    for channel in alarms.CHANNELS:
        alarm = _alarms(template)[f"{channel.capitalize()}FailureRateAlarm"]
        metrics = {m["Id"]: m for m in alarm["Metrics"]}
        names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics.values() if "MetricStat" in m}
        assert names == {"MessagesSent", "MessagesFailed", "BulkSent", "BulkFailed", "MessagesDeliveryFailed"}
        for m in metrics.values():
            if "MetricStat" in m:
                assert m["MetricStat"]["Metric"]["Namespace"] == "WECARE.DIGITAL"
                assert m["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "channel", "Value": channel}]
        [returned] = [m for m in metrics.values() if m["ReturnData"]]
        assert "100 * failures / attempts" in returned["Expression"]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 1)


def test_tier_use_alarms_above_eighty_percent(template):
    alarm = _alarms(template)["WhatsAppTierUseAlarm"]
    assert (alarm["MetricName"], alarm["Dimensions"]) == (
        "WhatsAppTierUse",
        [{"Name": "portfolio", "Value": PORTFOLIO}],
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 100 * ALERT_AT)


def test_the_web_5xx_rate_alarm_reads_the_load_balancer(template):
    alarm = _alarms(template)["Web5xxRateAlarm"]
    metrics = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert metrics == {"RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"}
    assert all(
        m["MetricStat"]["Metric"]["Dimensions"]
        == [{"Name": "LoadBalancer", "Value": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]}}]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 1)


def test_a_silent_worker_service_alarms_after_five_minutes_missing_data_breaching(template):
    for service in WORKER_SERVICES:
        alarm = _alarms(template)[f"{service.capitalize()}HeartbeatAlarm"]
        assert (alarm["MetricName"], alarm["Dimensions"]) == (
            "WorkerHeartbeat",
            [{"Name": "service", "Value": service}],
        )
        assert alarm["Period"] * alarm["EvaluationPeriods"] == 300 and alarm["DatapointsToAlarm"] == 5
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["TreatMissingData"]) == (
            "LessThanThreshold",
            1,
            "breaching",
        )


def test_a_stalled_bulk_job_alarms_at_once(template):
    alarm = _alarms(template)["BulkJobStalledAlarm"]
    assert (alarm["MetricName"], alarm.get("Dimensions")) == ("BulkJobsStalled", None)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


# emit("Name", ..., key=value) on one line; f"Bulk{name.capitalize()}" gives "Bulk" (mapped below).
EMIT = re.compile(r'\bemit\(\s*f?"(\w+)[^\n]*')


def test_every_metric_an_alarm_watches_is_one_the_app_emits_with_those_dimensions(template):
    """By name and dimension keys, against the emit( calls in the source: a renamed metric or
    dimension would leave its alarm watching nothing."""
    calls: dict[str, set[frozenset[str]]] = {}
    for path in ROOT.glob("*/**/*.py"):
        if "tests" in path.parts or ".venv" in path.parts:
            continue
        for call in EMIT.finditer(path.read_text()):
            keys = frozenset(re.findall(r"(\w+)=", call.group(0))) - {"stream"}
            calls.setdefault(call.group(1), set()).add(keys)
    calls.setdefault("BulkSent", set()).update(calls.get("Bulk", set()))  # f"Bulk{name.capitalize()}"
    calls.setdefault("BulkFailed", set()).update(calls.get("Bulk", set()))
    watched = []
    for alarm in _alarms(template).values():
        metrics = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
        watched += [m for m in metrics if m["Namespace"] == "WECARE.DIGITAL"]
    assert watched
    for metric in watched:
        keys = frozenset(d["Name"] for d in metric.get("Dimensions", []))
        assert keys in calls.get(metric["MetricName"], set()), metric


def test_the_heartbeat_and_tier_use_metrics_are_written(aws, capsys):
    assert heartbeat.delay("bulk").get() == "bulk"
    assert tier_metric.measure() >= 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    beat = next(line for line in lines if "WorkerHeartbeat" in line)
    assert (beat["WorkerHeartbeat"], beat["service"], beat["_aws"]["CloudWatchMetrics"][0]["Dimensions"]) == (
        1,
        "bulk",
        [["service"]],
    )
    tier = next(line for line in lines if "WhatsAppTierUse" in line)
    assert (tier["portfolio"], tier["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"]) == ("default", "Percent")


def test_beat_sends_a_heartbeat_a_minute_to_each_worker_service(settings):
    entries = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if v["task"] == "wecare.heartbeat"}
    assert {(v["args"], v["options"]["queue"], v["schedule"]) for v in entries.values()} == {
        ((name,), service.queues[0], 60) for name, service in WORKER_SERVICES.items()
    }


# --- deployed to moto ---------------------------------------------------------------------------


def _network() -> dict[str, str]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.15.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.15.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="stack-test", Description="stack test", VpcId=vpc)["GroupId"]
    certificate = client("acm").request_certificate(DomainName="app.example.org")["CertificateArn"]
    return {
        "VpcId": vpc,
        "SubnetIds": ",".join(subnets),
        "LoadBalancerSubnetIds": ",".join(subnets),
        "LoadBalancerSecurityGroupIds": group,
        "ServiceSecurityGroupIds": group,
        "CertificateArn": certificate,
    }


@pytest.mark.django_db
def test_deployed_to_moto_the_app_finds_every_table_and_queue_it_needs(
    aws, template, settings, monkeypatch, operator, new_phone
):
    """The stack under prefixes of its own, so it creates fresh tables and queues beside the
    suite's; then the app, configured with those prefixes as a deployed task would be, runs
    bootstrap and finds everything there. The buckets, topic and SES identity are the existing ones
    (parameters), as the suite's bootstrap made them."""
    # Imported here: moto's CloudFormation parser imports every moto backend it can build.
    from moto.cloudformation.parsing import resource_class_from_type

    assert all(resource_class_from_type(kind) is None for kind in MOTO_LACKS)  # say so when moto gains them
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert all(resource_class_from_type(kind) is not None for kind in kinds - MOTO_LACKS)
    body = {**template, "Resources": {k: r for k, r in template["Resources"].items() if r["Type"] not in MOTO_LACKS}}
    account = settings.AWS_ACCOUNT_ID
    parameters = {
        **_network(),
        "TablePrefix": "stack-",
        "QueuePrefix": "stack-",
        "ImageUri": f"{account}.dkr.ecr.us-east-1.amazonaws.com/wecare-digital:test",
        "TaskRoleArn": f"arn:aws:iam::{account}:role/base-wecare-digital",
        "ExecutionRoleArn": f"arn:aws:iam::{account}:role/ecs-execution",
        "PublicHostName": "app.example.org",
        "CognitoDomain": "https://auth.example.org",
        "OidcClientId": "client",
        "SecretKeyArn": f"arn:aws:secretsmanager:us-east-1:{account}:secret:key",
        "OidcClientSecretArn": f"arn:aws:secretsmanager:us-east-1:{account}:secret:oidc",
        "DatabaseUrlArn": f"arn:aws:secretsmanager:us-east-1:{account}:secret:db",
    }
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName="wecare-test",
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    stack = cloudformation.describe_stacks(StackName="wecare-test")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    summaries = cloudformation.list_stack_resources(StackName="wecare-test")["StackResourceSummaries"]
    assert {r["LogicalResourceId"] for r in summaries} == set(body["Resources"])

    tables = resources_of(template, "AWS::DynamoDB::Table")
    names = {"stack-" + model.Meta.table_name for model in ALL_MODELS}
    ttls = {
        "stack-" + model.Meta.table_name + "." + spec["AttributeName"]
        for model in ALL_MODELS
        if (spec := tables[table_id(model)]["Properties"].get("TimeToLiveSpecification"))
    }

    # The app with DYNAMODB_TABLE_PREFIX and SQS_QUEUE_PREFIX set to the stack's: models take their
    # table names from the prefix when defined, so each registered model is pointed at it here
    # (PynamoDB opens a new connection when a model's table name changes, and again when restored).
    settings.SQS_QUEUE_PREFIX = "stack-"
    for model in ALL_MODELS:
        monkeypatch.setattr(model.Meta, "table_name", "stack-" + model.Meta.table_name)
    steps = [(step.outcome, step.kind, step.name) for step in bootstrap()]
    assert {name for outcome, kind, name in steps if kind == "dynamodb" and outcome == "exists"} == names
    assert {name for outcome, kind, name in steps if kind == "sqs" and outcome == "exists"} == {
        "stack-" + q for q in (*WORK_QUEUES, *DEAD_LETTER_QUEUES)
    }
    # moto's CloudFormation creates a table without its TimeToLiveSpecification (moto/dynamodb/models/
    # table.py, create_from_cloudformation_json), so bootstrap turns TTL on: exactly the template's.
    assert {name for outcome, kind, name in steps if kind == "ttl"} == ttls
    assert [step for step in steps if step[0] != "exists" and step[1] != "ttl"] == []
    # And the app writes there: a contact lands in the stack's table, with its unique keys and audit.
    contact = actions.create_contact({"phone": new_phone(), "optInSms": True}, user=operator, source="test")
    dynamodb = client("dynamodb")
    assert "Item" in dynamodb.get_item(TableName="stack-Contacts", Key={"contactId": {"S": contact.contactId}})
    assert "Item" not in dynamodb.get_item(TableName="Contacts", Key={"contactId": {"S": contact.contactId}})


def test_the_command_prints_the_template_or_writes_it_to_a_file(template, tmp_path):
    out = StringIO()
    call_command("infra_template", stdout=out)
    assert json.loads(out.getvalue()) == template
    call_command("infra_template", "--output", str(tmp_path / "wecare.json"), stderr=StringIO())
    assert json.loads((tmp_path / "wecare.json").read_text()) == template
