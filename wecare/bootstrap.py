"""Create the AWS resources the platform needs, where missing. Never deletes, never changes
what exists; reports each step. Used by the local stack at every start and by a deployment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings
from pynamodb.attributes import TTLAttribute

from wecare.aws import client
from wecare.dynamo import ALL_MODELS
from wecare.queues import (
    DEAD_LETTER_QUEUES,
    DLQ_RETENTION_SECONDS,
    MAX_RECEIVE_COUNT,
    VISIBILITY_TIMEOUT_SECONDS,
    WORK_QUEUES,
)


@dataclass
class Step:
    kind: str
    name: str
    outcome: str  # "created" | "exists" | "refused" (AWS said why in the name: a person acts)

    def __str__(self) -> str:
        return f"{self.outcome:>7}  {self.kind:<10} {self.name}"


def ttl_attribute(model) -> str | None:
    for attribute in model.get_attributes().values():
        if isinstance(attribute, TTLAttribute):
            return attribute.attr_name
    return None


def dynamodb_tables() -> list[Step]:
    steps = []
    dynamodb = client("dynamodb")
    for model in ALL_MODELS:
        name = model.Meta.table_name
        if model.exists():
            steps.append(Step("dynamodb", name, "exists"))
            steps.extend(_missing_indexes(dynamodb, model))
        else:
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
            steps.append(Step("dynamodb", name, "created"))
        ttl = ttl_attribute(model)
        if ttl:
            status = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                dynamodb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl}
                )
                steps.append(Step("ttl", f"{name}.{ttl}", "created"))
    return steps


def _missing_indexes(dynamodb, model) -> list[Step]:
    """Add a global secondary index the model declares and the existing table lacks (a table
    created before the index was added to the code, as Messages' threadId index was); adding
    one is a creation, so bootstrap still changes nothing that exists. One index per call:
    DynamoDB builds one at a time on a table."""
    name = model.Meta.table_name
    table = dynamodb.describe_table(TableName=name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    schema = model._get_schema()
    for index in schema["global_secondary_indexes"]:
        if index["index_name"] in present:
            continue
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": index["index_name"],
                        "KeySchema": index["key_schema"],
                        "Projection": index["projection"],
                    }
                }
            ],
        )
        return [Step("gsi", f"{name}.{index['index_name']}", "created")]
    return []


def _queue_url(sqs, physical: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=physical)["QueueUrl"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        raise


def sqs_queues() -> list[Step]:
    sqs = client("sqs")
    prefix = settings.SQS_QUEUE_PREFIX
    steps = []
    dlq_arns = {}
    for name in DEAD_LETTER_QUEUES:
        url = _queue_url(sqs, prefix + name)
        outcome = "exists"
        if url is None:
            url = sqs.create_queue(
                QueueName=prefix + name, Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
            )["QueueUrl"]
            outcome = "created"
        dlq_arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        steps.append(Step("sqs", prefix + name, outcome))
    for name, dlq in WORK_QUEUES.items():
        if _queue_url(sqs, prefix + name):
            steps.append(Step("sqs", prefix + name, "exists"))
            continue
        redrive = {"deadLetterTargetArn": dlq_arns[dlq], "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        sqs.create_queue(
            QueueName=prefix + name,
            Attributes={"VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS), "RedrivePolicy": json.dumps(redrive)},
        )
        steps.append(Step("sqs", f"{prefix + name} -> {prefix + dlq}", "created"))
    return steps


def s3_buckets() -> list[Step]:
    s3 = client("s3")
    steps = []
    for bucket in dict.fromkeys([settings.MEDIA_BUCKET, settings.REPORT_BUCKET]):
        try:
            s3.head_bucket(Bucket=bucket)
            steps.append(Step("s3", bucket, "exists"))
            continue
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                raise
        kwargs = (
            {}
            if settings.AWS_REGION == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": settings.AWS_REGION}}
        )
        s3.create_bucket(Bucket=bucket, **kwargs)
        # Media and reports are private: they are opened through short-lived presigned links.
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        steps.append(Step("s3", bucket, "created"))
    return steps


def sns_topic() -> list[Step]:
    sns = client("sns")
    arn = settings.SNS_TOPIC_ARN
    try:
        sns.get_topic_attributes(TopicArn=arn)
        return [Step("sns", arn, "exists")]
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NotFound", "NotFoundException"):
            raise
    sns.create_topic(Name=arn.rsplit(":", 1)[-1])
    return [Step("sns", arn, "created")]


def ses_identity() -> list[Step]:
    ses = client("sesv2")
    sender = settings.SES_SENDER_EMAIL
    try:
        ses.get_email_identity(EmailIdentity=sender)
        return [Step("ses", sender, "exists")]
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NotFoundException",):
            raise
    ses.create_email_identity(EmailIdentity=sender)
    return [Step("ses", sender, "created")]


# The receipt rule's one rule: every mail to our receiving addresses stored in S3 (SES's 40 MB
# limit, rather than the 150 KB an SNS action carries) and announced on the inbound topic.
RECEIPT_RULE = "store-and-notify"
# What SES answers when the bucket or topic policy does not let it write or publish yet.
POLICY_REFUSALS = ("InvalidS3Configuration", "InvalidSnsTopic", "InvalidS3ConfigurationException")


def ses_receipt_rule() -> list[Step]:
    """SES receiving's rule set and rule (docs/deployment.md, "Inbound email"). The rule set is
    not activated here: an account has one active rule set, and switching it is a person's call."""
    rule_set = settings.SES_RECEIPT_RULE_SET
    if not rule_set:
        return []
    ses = client("ses")
    steps = []
    try:
        ses.describe_receipt_rule_set(RuleSetName=rule_set)
        steps.append(Step("ses-rules", rule_set, "exists"))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RuleSetDoesNotExist":
            raise
        ses.create_receipt_rule_set(RuleSetName=rule_set)
        steps.append(Step("ses-rules", rule_set, "created"))
    name = f"{rule_set}/{RECEIPT_RULE}"
    try:
        ses.describe_receipt_rule(RuleSetName=rule_set, RuleName=RECEIPT_RULE)
        return [*steps, Step("ses-rule", name, "exists")]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RuleDoesNotExist":
            raise
    rule = {
        "Name": RECEIPT_RULE,
        "Enabled": True,
        "ScanEnabled": True,  # spam and virus verdicts: a virus FAIL keeps a mail's attachments out
        "Recipients": settings.EMAIL_RECEIVING_ADDRESSES,
        "Actions": [
            {
                "S3Action": {
                    "BucketName": settings.MEDIA_BUCKET,
                    "ObjectKeyPrefix": settings.EMAIL_INBOUND_MAIL_PREFIX,
                    "TopicArn": settings.SES_INBOUND_TOPIC_ARN or settings.SNS_TOPIC_ARN,
                }
            }
        ],
    }
    try:
        ses.create_receipt_rule(RuleSetName=rule_set, Rule=rule)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in POLICY_REFUSALS:
            raise
        return [*steps, Step("ses-rule", f"{name}: {exc.response['Error'].get('Message', '')}", "refused")]
    return [*steps, Step("ses-rule", name, "created")]


SES_EVENT_DESTINATION = "platform-sns"
# The SES events the platform acts on (messaging/inbound/email_events.py): opens and clicks are
# left out, since they would only be counted and each is a notification and a task.
SES_EVENT_TYPES = ["send", "reject", "bounce", "complaint", "delivery", "renderingFailure", "deliveryDelay"]


def ses_configuration_set() -> list[Step]:
    """The SES configuration set (SES_CONFIGURATION_SET) every email names, with an SNS event
    destination to SES_EVENTS_TOPIC_ARN or SNS_TOPIC_ARN; nothing when the setting is empty. The
    SES v1 API, which manages the same configuration sets as v2 and which moto answers in full."""
    name = settings.SES_CONFIGURATION_SET
    if not name:
        return []
    ses = client("ses")
    steps: list[Step] = []
    try:
        found = ses.describe_configuration_set(
            ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
        )
        steps.append(Step("ses-events", name, "exists"))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConfigurationSetDoesNotExist":
            raise
        ses.create_configuration_set(ConfigurationSet={"Name": name})
        found = {}
        steps.append(Step("ses-events", name, "created"))
    destination = f"{name}/{SES_EVENT_DESTINATION}"
    if any((d or {}).get("Name") == SES_EVENT_DESTINATION for d in found.get("EventDestinations", [])):
        return [*steps, Step("ses-events", destination, "exists")]
    try:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestination={
                "Name": SES_EVENT_DESTINATION,
                "Enabled": True,
                "MatchingEventTypes": SES_EVENT_TYPES,
                "SNSDestination": {"TopicARN": settings.SES_EVENTS_TOPIC_ARN or settings.SNS_TOPIC_ARN},
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EventDestinationAlreadyExists":
            raise
        return [*steps, Step("ses-events", destination, "exists")]
    return [*steps, Step("ses-events", destination, "created")]


SMS_EVENT_DESTINATION = "platform-sns"


def sms_configuration_set() -> list[Step]:
    """The SMS configuration set (SMS_CONFIGURATION_SET) with an SNS event destination for every
    SMS event, to SMS_EVENTS_TOPIC_ARN or SNS_TOPIC_ARN; nothing when the setting is empty."""
    name = settings.SMS_CONFIGURATION_SET
    if not name:
        return []
    sms = client("pinpoint-sms-voice-v2")
    steps: list[Step] = []
    try:
        [found] = sms.describe_configuration_sets(ConfigurationSetNames=[name])["ConfigurationSets"]
        steps.append(Step("sms", name, "exists"))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        sms.create_configuration_set(ConfigurationSetName=name)
        found = {"EventDestinations": []}
        steps.append(Step("sms", name, "created"))
    destination = f"{name}/{SMS_EVENT_DESTINATION}"
    if any(d["EventDestinationName"] == SMS_EVENT_DESTINATION for d in found.get("EventDestinations", [])):
        return [*steps, Step("sms", destination, "exists")]
    sms.create_event_destination(
        ConfigurationSetName=name,
        EventDestinationName=SMS_EVENT_DESTINATION,
        MatchingEventTypes=["TEXT_ALL"],
        SnsDestination={"TopicArn": settings.SMS_EVENTS_TOPIC_ARN or settings.SNS_TOPIC_ARN},
    )
    return [*steps, Step("sms", destination, "created")]


STEPS: dict[str, Callable[[], list[Step]]] = {
    "dynamodb": dynamodb_tables,
    "sqs": sqs_queues,
    "s3": s3_buckets,
    "sns": sns_topic,
    "ses": ses_identity,
    "ses-events": ses_configuration_set,
    "ses-inbound": ses_receipt_rule,
    "sms": sms_configuration_set,
}


def bootstrap(only: list[str] | None = None) -> list[Step]:
    steps: list[Step] = []
    for kind, run in STEPS.items():
        if only is None or kind in only:
            steps.extend(run())
    return steps
