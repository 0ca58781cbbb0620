"""The SMS opt-out lists of pinpoint-sms-voice-v2, through a boto3 client over HTTP."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localaws.fakeaws.tests.helpers import SMS_POOL
from localaws.fakeaws.tests.test_sms_and_controls import control

CUSTOMER = "+14155550123"


def send(sms, number: str = CUSTOMER):
    return sms.send_text_message(DestinationPhoneNumber=number, OriginationIdentity=SMS_POOL, MessageBody="Hi")


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> dict:
    answer = raised.value.response
    return {
        "Code": answer["Error"]["Code"],
        **{k: answer[k] for k in ("Reason", "ResourceType", "ResourceId") if k in answer},
    }


@pytest.fixture
def checked_sms(make_client):
    """The app's kind of client: botocore checks required members and types before sending."""
    return make_client("pinpoint-sms-voice-v2", checked=True)


def test_a_number_put_on_the_list_is_refused_before_sending(checked_sms, fake_aws_clean):
    put = checked_sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=CUSTOMER)
    assert put["OptOutListName"] == "Default"
    assert put["OptOutListArn"].startswith("arn:aws:sms-voice:") and put["OptOutListArn"].endswith(
        ":opt-out-list/Default"
    )
    assert (put["OptedOutNumber"], put["EndUserOptedOut"]) == (CUSTOMER, False)
    assert put["OptedOutTimestamp"].tzinfo is not None  # an epoch timestamp on the wire

    with pytest.raises(ClientError) as raised:
        send(checked_sms)

    assert error_of(raised) == {
        "Code": "ConflictException",
        "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
        "ResourceType": "opted-out-number",
        "ResourceId": CUSTOMER,
    }
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    [call] = fake_aws_clean.calls("SendTextMessage")
    assert call["error"] == "ConflictException"
    assert send(checked_sms, "+14155550124")["MessageId"]  # others still get through


def test_deleting_the_number_lets_sends_through_again(checked_sms, fake_aws_clean):
    checked_sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=CUSTOMER)

    deleted = checked_sms.delete_opted_out_number(OptOutListName="Default", OptedOutNumber=CUSTOMER)

    assert (deleted["OptedOutNumber"], deleted["OptOutListName"]) == (CUSTOMER, "Default")
    assert send(checked_sms)["MessageId"]
    with pytest.raises(ClientError) as raised:
        checked_sms.delete_opted_out_number(OptOutListName="Default", OptedOutNumber=CUSTOMER)
    assert error_of(raised) == {
        "Code": "ResourceNotFoundException",
        "ResourceType": "opted-out-number",
        "ResourceId": CUSTOMER,
    }


def test_an_unknown_list_is_not_found(checked_sms, fake_aws_clean):
    for call in (
        lambda: checked_sms.put_opted_out_number(OptOutListName="nope", OptedOutNumber=CUSTOMER),
        lambda: checked_sms.delete_opted_out_number(OptOutListName="nope", OptedOutNumber=CUSTOMER),
        lambda: checked_sms.describe_opted_out_numbers(OptOutListName="nope"),
        lambda: checked_sms.describe_opt_out_lists(OptOutListNames=["nope"]),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == {
            "Code": "ResourceNotFoundException",
            "ResourceType": "opt-out-list",
            "ResourceId": "nope",
        }


def test_lists_are_created_once_and_found_by_name_or_arn(checked_sms, fake_aws_clean):
    created = checked_sms.create_opt_out_list(OptOutListName="marketing")
    assert created["OptOutListName"] == "marketing" and created["CreatedTimestamp"]
    with pytest.raises(ClientError) as raised:
        checked_sms.create_opt_out_list(OptOutListName="marketing")
    assert error_of(raised)["Reason"] == "RESOURCE_ALREADY_EXISTS"

    names = [found["OptOutListName"] for found in checked_sms.describe_opt_out_lists()["OptOutLists"]]
    assert names == ["Default", "marketing"]
    assert checked_sms.describe_opt_out_lists(Owner="SHARED")["OptOutLists"] == []

    checked_sms.put_opted_out_number(OptOutListName=created["OptOutListArn"], OptedOutNumber=CUSTOMER)
    described = checked_sms.describe_opted_out_numbers(OptOutListName="marketing")
    assert [n["OptedOutNumber"] for n in described["OptedOutNumbers"]] == [CUSTOMER]
    assert described["OptOutListArn"] == created["OptOutListArn"]


def test_describe_filters_by_number_and_by_who_opted_out(checked_sms, fake_aws_clean):
    base = f"{fake_aws_clean.url}/__fake"
    checked_sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber="+14155550101")
    status, answer = control(f"{base}/sms/opt-outs", "POST", {"number": "+14155550102"})  # the customer's STOP
    assert status == 201 and answer["optedOut"]["endUserOptedOut"] is True

    def numbers(**kwargs):
        found = checked_sms.describe_opted_out_numbers(OptOutListName="Default", **kwargs)["OptedOutNumbers"]
        return [(n["OptedOutNumber"], n["EndUserOptedOut"]) for n in found]

    assert numbers() == [("+14155550101", False), ("+14155550102", True)]
    assert numbers(Filters=[{"Name": "end-user-opted-out", "Values": ["true"]}]) == [("+14155550102", True)]
    assert numbers(Filters=[{"Name": "end-user-opted-out", "Values": ["false"]}]) == [("+14155550101", False)]
    assert numbers(OptedOutNumbers=["+14155550102"]) == [("+14155550102", True)]
    with pytest.raises(ClientError) as raised:
        numbers(OptedOutNumbers=["+14155550199"])
    assert error_of(raised)["ResourceType"] == "opted-out-number"
    with pytest.raises(ClientError):
        send(checked_sms, "+14155550102")
    assert control(f"{base}/sms/opt-outs")[1]["optOutLists"]["Default"][1]["number"] == "+14155550102"


def test_describe_pages_with_max_results_and_next_token(checked_sms, fake_aws_clean):
    for index in range(5):
        checked_sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=f"+1415555020{index}")

    first = checked_sms.describe_opted_out_numbers(OptOutListName="Default", MaxResults=2)
    second = checked_sms.describe_opted_out_numbers(
        OptOutListName="Default", MaxResults=2, NextToken=first["NextToken"]
    )
    third = checked_sms.describe_opted_out_numbers(
        OptOutListName="Default", MaxResults=2, NextToken=second["NextToken"]
    )

    pages = [[n["OptedOutNumber"][-1] for n in page["OptedOutNumbers"]] for page in (first, second, third)]
    assert pages == [["0", "1"], ["2", "3"], ["4"]]
    assert "NextToken" not in third
    paginated = checked_sms.get_paginator("describe_opted_out_numbers").paginate(
        OptOutListName="Default", PaginationConfig={"PageSize": 3}
    )
    assert sum(len(page["OptedOutNumbers"]) for page in paginated) == 5
    with pytest.raises(ClientError) as raised:
        checked_sms.describe_opted_out_numbers(OptOutListName="Default", NextToken="forged")
    assert (error_of(raised)["Code"], error_of(raised)["Reason"]) == ("ValidationException", "INVALID_NEXT_TOKEN")


@pytest.mark.parametrize(
    ("operation", "request_", "expected"),
    [
        (
            "put_opted_out_number",
            {"OptOutListName": "Default", "OptedOutNumber": "0123"},
            'OptedOutNumber: "0123" does not match the pattern \\+?[1-9][0-9]{1,18}',
        ),
        (
            "describe_opted_out_numbers",
            {"OptOutListName": "Default", "Filters": [{"Name": "opted-out-by", "Values": ["true"]}]},
            'Filters[0].Name: "opted-out-by" is not one of end-user-opted-out',
        ),
        (
            "describe_opted_out_numbers",
            {"OptOutListName": "Default", "MaxResults": 101},
            "MaxResults: 101 is above the maximum 100",
        ),
        (
            "describe_opted_out_numbers",
            {"OptOutListName": "Default", "OptedOutNumbers": [f"+1415555030{i}" for i in range(6)]},
            "OptedOutNumbers: list length 6 is above the maximum 5",
        ),
        (
            "create_opt_out_list",
            {"OptOutListName": "with space"},
            'OptOutListName: "with space" does not match the pattern [A-Za-z0-9_-]+',
        ),
        ("delete_opted_out_number", {"OptOutListName": "Default"}, "OptedOutNumber: required member is missing"),
    ],
)
def test_invalid_opt_out_calls_are_refused_naming_the_member(sms, fake_aws_clean, operation, request_, expected):
    with pytest.raises(ClientError) as raised:
        getattr(sms, operation)(**request_)

    assert raised.value.response["Error"] == {"Code": "ValidationException", "Message": expected}
    assert fake_aws_clean.calls() == []


def test_reset_empties_the_lists(checked_sms, fake_aws_clean):
    base = f"{fake_aws_clean.url}/__fake"
    checked_sms.create_opt_out_list(OptOutListName="marketing")
    checked_sms.put_opted_out_number(OptOutListName="Default", OptedOutNumber=CUSTOMER)

    assert control(f"{base}/reset", "POST") == (200, {"reset": True})

    assert control(f"{base}/sms/opt-outs") == (200, {"optOutLists": {"Default": []}})
    assert send(checked_sms)["MessageId"]


def test_the_opt_out_control_refuses_what_it_cannot_record(fake_aws_clean):
    base = f"{fake_aws_clean.url}/__fake/sms/opt-outs"
    assert control(base, "POST", {"number": "0"})[0] == 400
    assert control(base, "POST", {"number": CUSTOMER, "list": "nope"})[0] == 400
    assert control(base, "POST", {"number": CUSTOMER, "keyword": "STOP"})[0] == 400
    assert control(base)[1] == {"optOutLists": {"Default": []}}


def test_the_server_opts_a_number_out_in_process(checked_sms, fake_aws_clean):
    fake_aws_clean.opt_out(CUSTOMER)

    with pytest.raises(ClientError) as raised:
        send(checked_sms)
    assert error_of(raised)["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
    assert [(e["number"], e["endUserOptedOut"]) for e in fake_aws_clean.opted_out()["Default"]] == [(CUSTOMER, True)]
