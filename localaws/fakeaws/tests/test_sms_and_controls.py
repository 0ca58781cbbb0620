"""pinpoint-sms-voice-v2 (json protocol) and the `/__fake/` controls over plain HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from localaws.fakeaws.tests.helpers import SMS_POOL


def control(url: str, method: str = "GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_send_text_message_is_answered_and_recorded(sms, fake_aws_clean):
    answer = sms.send_text_message(
        DestinationPhoneNumber="+14155550123",
        OriginationIdentity=SMS_POOL,
        MessageBody="Hi",
        MessageType="TRANSACTIONAL",
    )

    assert answer["MessageId"]
    [call] = fake_aws_clean.calls("SendTextMessage", service="pinpoint-sms-voice-v2")
    assert call["params"] == {
        "DestinationPhoneNumber": "+14155550123",
        "OriginationIdentity": SMS_POOL,
        "MessageBody": "Hi",
        "MessageType": "TRANSACTIONAL",
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"OriginationIdentity": "pool 6fbf5a5f!"},
            'OriginationIdentity: "pool 6fbf5a5f!" does not match the pattern [A-Za-z0-9_:/\\+-]+',
        ),
        ({"MessageType": "URGENT"}, 'MessageType: "URGENT" is not one of TRANSACTIONAL, PROMOTIONAL'),
        (
            {"DestinationPhoneNumber": "+1415abc"},
            'DestinationPhoneNumber: "+1415abc" does not match the pattern \\+?[1-9][0-9]{1,18}',
        ),
        ({"TimeToLive": 1}, "TimeToLive: 1 is below the minimum 5"),
    ],
)
def test_invalid_sms_is_refused_naming_the_member(sms, fake_aws_clean, changes, expected):
    request = {
        "DestinationPhoneNumber": "+14155550123",
        "OriginationIdentity": SMS_POOL,
        "MessageBody": "Hi",
        **changes,
    }
    with pytest.raises(ClientError) as raised:
        sms.send_text_message(**request)

    assert raised.value.response["Error"] == {"Code": "ValidationException", "Message": expected}
    assert raised.value.response["Reason"] == "FIELD_VALIDATION_FAILED"  # the json model's own members
    assert fake_aws_clean.calls() == []


def test_controls_over_http(sms, fake_aws_clean):
    base = f"{fake_aws_clean.url}/__fake"
    services = ["socialmessaging", "pinpoint-sms-voice-v2", "bedrock-agent-runtime", "bedrock-runtime"]
    assert control(f"{base}/health") == (200, {"ok": True, "services": services})

    status, answer = control(
        f"{base}/faults", "POST", {"operation": "SendTextMessage", "error": "ThrottlingException", "times": 1}
    )
    assert status == 201 and answer["fault"]["status"] == 429  # pinpoint's model gives no status: the usual one
    with pytest.raises(ClientError) as raised:
        sms.send_text_message(DestinationPhoneNumber="+14155550123", MessageBody="Hi")
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    sms.send_text_message(DestinationPhoneNumber="+14155550123", MessageBody="Hi")
    with pytest.raises(ClientError):
        sms.send_text_message(DestinationPhoneNumber="0", MessageBody="Hi")

    status, answer = control(f"{base}/calls?operation=SendTextMessage")
    assert status == 200 and [c["error"] for c in answer["calls"]] == ["ThrottlingException", None]
    assert isinstance(answer["calls"][0]["time"], str)
    status, answer = control(f"{base}/rejected")
    assert [r["errors"][0].split(":")[0] for r in answer["rejected"]] == ["DestinationPhoneNumber"]

    assert control(f"{base}/calls", "DELETE") == (200, {"calls": []})
    assert control(f"{base}/calls")[1] == {"calls": []}

    control(f"{base}/faults", "POST", {"operation": "SendTextMessage", "error": "AccessDeniedException", "times": 5})
    assert control(f"{base}/faults")[1]["faults"][0]["times"] == 5
    assert control(f"{base}/faults", "DELETE") == (200, {"faults": []})
    sms.send_text_message(DestinationPhoneNumber="+14155550123", MessageBody="Hi")


def test_controls_refuse_what_would_silently_do_nothing(fake_aws_clean):
    base = f"{fake_aws_clean.url}/__fake"
    status, answer = control(
        f"{base}/faults", "POST", {"operation": "SendWhatsappMessage", "error": "ThrottlingException"}
    )
    assert status == 400 and "SendWhatsappMessage" in answer["message"]
    status, _ = control(f"{base}/faults", "POST", {"operation": "SendTextMessage", "error": "X", "times": 0})
    assert status == 400
    status, answer = control(
        f"{base}/templates", "POST", {"templates": [{"templateName": "a", "metaTemplateId": "abc"}]}
    )
    assert status == 400 and "metaTemplateId" in answer["message"]
    status, answer = control(
        f"{base}/templates", "POST", [{"templateName": "a", "components": [{"type": "BODY", "text": "Hi {{1}}"}]}]
    )
    assert status == 200 and control(f"{base}/templates")[1]["templates"][0]["templateName"] == "a"
    assert control(f"{base}/reset", "POST") == (200, {"reset": True})
    assert len(control(f"{base}/templates")[1]["templates"]) == 7
    assert control(f"{base}/nothing")[0] == 404


def raw(url: str, method: str, body: bytes, headers: dict[str, str]):
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_requests_that_name_no_operation_or_are_not_json_are_refused(fake_aws_clean):
    json_protocol = {"Content-Type": "application/x-amz-json-1.0"}
    status, _, answer = raw(
        fake_aws_clean.url + "/", "POST", b"{}", {**json_protocol, "X-Amz-Target": "PinpointSMSVoiceV2.Nope"}
    )
    assert (status, answer["__type"]) == (400, "UnknownOperationException") and "Nope" in answer["message"]

    status, _, answer = raw(
        fake_aws_clean.url + "/",
        "POST",
        b"{not json",
        {**json_protocol, "X-Amz-Target": "PinpointSMSVoiceV2.SendTextMessage"},
    )
    assert (status, answer["__type"]) == (400, "SerializationException")

    status, headers, answer = raw(fake_aws_clean.url + "/v1/whatsapp/nowhere", "GET", None, {})
    assert (status, headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")

    # rest-json: a query-string member smuggled into the body is named, not silently used
    status, headers, answer = raw(
        fake_aws_clean.url + "/v1/whatsapp/media?originationPhoneNumberId=phone-number-id-1",
        "DELETE",
        b'{"mediaId": "123"}',
        {"Content-Type": "application/json"},
    )
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert (
        answer["message"]
        == "mediaId: sent in the body, but this member travels in the querystring; mediaId: required member is missing"
    )
    assert [r["error"] for r in fake_aws_clean.rejected()] == ["SerializationException", "ValidationException"]


def test_media_is_forgotten_over_http(fake_aws_clean):
    base = f"{fake_aws_clean.url}/__fake"
    fake_aws_clean.state.put_media("1000000000000001", {"mimeType": "image/png", "fileSize": 1})
    fake_aws_clean.state.put_media("1000000000000002", {"mimeType": "image/png", "fileSize": 1})
    assert control(f"{base}/media/forget", "POST", {"mediaId": "1000000000000001"}) == (200, {"forgotten": 1})
    assert control(f"{base}/media/forget", "POST", {"mediaId": "1000000000000001"}) == (200, {"forgotten": 0})
    assert control(f"{base}/media/forget", "POST", {}) == (200, {"forgotten": 1})  # every one left
    status, answer = control(f"{base}/media/forget", "POST", {"mediaId": 5})
    assert status == 400 and "mediaId" in answer["message"]
