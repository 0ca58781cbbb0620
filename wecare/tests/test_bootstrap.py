import json

import pytest
from django.core.management import call_command

from wecare.aws import client
from wecare.dynamo import ALL_MODELS
from wecare.queues import MAX_RECEIVE_COUNT, WORK_QUEUES


def test_every_table_exists_with_ttl_where_the_design_says(aws):
    dynamodb = client("dynamodb")
    names = set(dynamodb.list_tables()["TableNames"])
    assert {m.Meta.table_name for m in ALL_MODELS} <= names
    for table, attribute in {
        "Messages": "expiresAt",
        "AuditLogs": "expiresAt",
        "DLQMessages": "expiresAt",
        "RateLimitTrackers": "expiresAt",
        "base-wecare-digital-whatsapp": "ttl",
    }.items():
        ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", attribute)


def test_the_whatsapp_table_has_the_contracts_five_indexes(aws):
    table = client("dynamodb").describe_table(TableName="base-wecare-digital-whatsapp")["Table"]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {
        "inboxPk-receivedAt-index": ["inboxPk", "receivedAt"],
        "conversationPk-receivedAt-index": ["conversationPk", "receivedAt"],
        "itemType-receivedAt-index": ["itemType", "receivedAt"],
        "wabaId-templateStatus-index": ["wabaId", "templateStatus"],
        "deliveryStatus-receivedAt-index": ["deliveryStatus", "receivedAt"],
    }
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


@pytest.mark.parametrize(("queue", "dlq"), WORK_QUEUES.items())
def test_each_work_queue_redrives_to_its_dead_letter_queue(aws, queue, dlq):
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )
    assert policy["deadLetterTargetArn"].endswith(f":{dlq}")
    assert int(policy["maxReceiveCount"]) == MAX_RECEIVE_COUNT


def test_running_bootstrap_again_creates_nothing_and_deletes_nothing(aws, capsys):
    call_command("bootstrap_aws")
    out = capsys.readouterr().out
    assert "0 created" in out
    assert "created " not in out.replace("0 created", "")


def test_an_index_added_in_the_code_is_added_to_a_table_that_lacks_it(aws, capsys):
    # A Messages table from before SMS and email conversations has no threadId index.
    dynamodb = client("dynamodb")
    dynamodb.update_table(
        TableName="Messages", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "threadId-timestamp-index"}}]
    )
    call_command("bootstrap_aws")
    assert "created  gsi        Messages.threadId-timestamp-index" in capsys.readouterr().out
    table = dynamodb.describe_table(TableName="Messages")["Table"]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes["threadId-timestamp-index"] == ["threadId", "timestamp"]
    assert indexes["contactId-timestamp-index"] == ["contactId", "timestamp"]  # the one it had, untouched


def test_the_ses_receipt_rule_stores_mail_to_our_addresses_in_s3_and_notifies_the_inbound_topic(aws, settings):
    ses = client("ses")
    rule = ses.describe_receipt_rule(RuleSetName=settings.SES_RECEIPT_RULE_SET, RuleName="store-and-notify")["Rule"]
    assert rule["Enabled"] and rule["ScanEnabled"]
    assert rule["Recipients"] == settings.EMAIL_RECEIVING_ADDRESSES
    assert rule["Actions"] == [
        {
            "S3Action": {
                "BucketName": settings.MEDIA_BUCKET,
                "ObjectKeyPrefix": settings.EMAIL_INBOUND_MAIL_PREFIX,
                "TopicArn": settings.SES_INBOUND_TOPIC_ARN or settings.SNS_TOPIC_ARN,
            }
        }
    ]


def test_the_sms_configuration_set_is_created_once_with_its_sns_event_destination(settings, fake_aws_clean):
    from wecare.bootstrap import bootstrap

    settings.SMS_CONFIGURATION_SET = "test-sms-events"

    first = [str(step) for step in bootstrap(["sms"])]
    again = [str(step) for step in bootstrap(["sms"])]

    assert [line.split()[0] for line in first] == ["created", "created"]
    assert [line.split()[0] for line in again] == ["exists", "exists"]
    [found] = client("pinpoint-sms-voice-v2").describe_configuration_sets(ConfigurationSetNames=["test-sms-events"])[
        "ConfigurationSets"
    ]
    [destination] = found["EventDestinations"]
    assert destination["MatchingEventTypes"] == ["TEXT_ALL"]
    assert destination["SnsDestination"] == {"TopicArn": settings.SMS_EVENTS_TOPIC_ARN or settings.SNS_TOPIC_ARN}
    # Every call passed the fake's check against botocore's model.
    assert fake_aws_clean.rejected() == []


def test_no_sms_configuration_set_is_made_when_none_is_configured(settings, fake_aws_clean):
    from wecare.bootstrap import bootstrap

    settings.SMS_CONFIGURATION_SET = ""
    assert bootstrap(["sms"]) == []
    assert fake_aws_clean.calls(service="pinpoint-sms-voice-v2") == []
