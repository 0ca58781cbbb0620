"""Configuration sets and event destinations in the fake of pinpoint-sms-voice-v2, over HTTP: what
bootstrap creates and reads back, validated against botocore's model like every other call."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

TOPIC = "arn:aws:sns:us-east-1:123456789012:sms-events"


def code_of(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return raised.value.response["Error"]["Code"]


def test_a_configuration_set_is_created_once_and_described_with_its_destinations(make_client, fake_aws_clean):
    sms = make_client("pinpoint-sms-voice-v2")
    created = sms.create_configuration_set(ConfigurationSetName="events")
    assert created["ConfigurationSetArn"].endswith(":configuration-set/events")
    with pytest.raises(ClientError) as raised:
        sms.create_configuration_set(ConfigurationSetName="events")
    assert (code_of(raised), raised.value.response["Reason"]) == ("ConflictException", "RESOURCE_ALREADY_EXISTS")

    added = sms.create_event_destination(
        ConfigurationSetName="events",
        EventDestinationName="to-sns",
        MatchingEventTypes=["TEXT_ALL"],
        SnsDestination={"TopicArn": TOPIC},
    )
    assert added["EventDestination"]["SnsDestination"] == {"TopicArn": TOPIC}

    [found] = sms.describe_configuration_sets(ConfigurationSetNames=["events"])["ConfigurationSets"]
    assert found["ConfigurationSetName"] == "events"
    assert found["EventDestinations"] == [
        {
            "EventDestinationName": "to-sns",
            "Enabled": True,
            "MatchingEventTypes": ["TEXT_ALL"],
            "SnsDestination": {"TopicArn": TOPIC},
        }
    ]
    assert [s["ConfigurationSetName"] for s in sms.describe_configuration_sets()["ConfigurationSets"]] == ["events"]


def test_a_missing_set_is_not_found(make_client, fake_aws_clean):
    sms = make_client("pinpoint-sms-voice-v2")
    with pytest.raises(ClientError) as raised:
        sms.describe_configuration_sets(ConfigurationSetNames=["nope"])
    assert code_of(raised) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        sms.create_event_destination(
            ConfigurationSetName="nope", EventDestinationName="d", MatchingEventTypes=["TEXT_ALL"]
        )
    assert code_of(raised) == "ResourceNotFoundException"


def test_the_model_refuses_an_event_type_it_does_not_list(make_client, fake_aws_clean):
    sms = make_client("pinpoint-sms-voice-v2", checked=False)  # the request reaches the fake
    sms.create_configuration_set(ConfigurationSetName="events")
    with pytest.raises(ClientError) as raised:
        sms.create_event_destination(
            ConfigurationSetName="events", EventDestinationName="d", MatchingEventTypes=["TEXT_EVERYTHING"]
        )
    assert code_of(raised) == "ValidationException"
    [refused] = fake_aws_clean.rejected("CreateEventDestination")
    assert "MatchingEventTypes" in str(refused)


def test_reset_forgets_configuration_sets(make_client, fake_aws_clean):
    sms = make_client("pinpoint-sms-voice-v2")
    sms.create_configuration_set(ConfigurationSetName="events")
    fake_aws_clean.reset()
    assert sms.describe_configuration_sets()["ConfigurationSets"] == []
