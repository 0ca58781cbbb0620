"""socialmessaging through a real boto3 client: valid calls answered and recorded, invalid ones
refused with ValidationException naming the member, faults, templates, media in moto's S3."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from django.conf import settings

from localaws.fakeaws.tests.helpers import PHONE, whatsapp_text


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def waba_id(social) -> str:
    return social.list_linked_whatsapp_business_accounts()["linkedAccounts"][0]["id"]


def test_the_apps_own_client_reaches_the_fake_and_the_call_is_recorded(fake_aws_clean):
    from wecare.aws import client

    message = whatsapp_text()
    answer = client("socialmessaging").send_whatsapp_message(
        originationPhoneNumberId=PHONE, message=message, metaApiVersion="v20.0"
    )

    assert answer["messageId"]
    [call] = fake_aws_clean.calls("SendWhatsAppMessage")
    assert call["service"] == "socialmessaging" and call["status"] == 200 and call["error"] is None
    assert call["params"]["originationPhoneNumberId"] == PHONE
    assert call["params"]["metaApiVersion"] == "v20.0"
    assert base64.b64decode(call["params"]["message"]) == message  # blobs are recorded as sent: base64


@pytest.mark.parametrize(
    ("changes", "member", "problem"),
    [
        (
            {"originationPhoneNumberId": "phone-number-id-" + "a" * 100},
            "originationPhoneNumberId",
            "above the maximum 115",
        ),
        ({"originationPhoneNumberId": "+14155550100"}, "originationPhoneNumberId", "does not match the pattern"),
        ({"message": b""}, "message", "below the minimum 1"),
    ],
)
def test_what_the_client_lets_through_the_fake_refuses(social, fake_aws_clean, changes, member, problem):
    request = {"originationPhoneNumberId": PHONE, "message": whatsapp_text(), "metaApiVersion": "v20.0", **changes}

    with pytest.raises(ClientError) as raised:
        social.send_whatsapp_message(**request)

    code, message = error_of(raised)
    assert code == "ValidationException"
    assert message.startswith(f"{member}: ") and problem in message
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fake_aws_clean.calls() == []
    [refused] = fake_aws_clean.rejected("SendWhatsAppMessage")
    assert refused["errors"][0].startswith(f"{member}: ")


def test_botocore_checks_required_members_and_types_but_not_lengths(make_client):
    """Why the fake validates at all: the default client refuses only some mistakes itself."""
    checked = make_client("socialmessaging")
    with pytest.raises(ParamValidationError):
        checked.send_whatsapp_message(message=whatsapp_text(), metaApiVersion="v20.0")  # no origination id
    with pytest.raises(ClientError) as raised:
        checked.send_whatsapp_message(
            originationPhoneNumberId="x" * 200, message=whatsapp_text(), metaApiVersion="v20.0"
        )
    assert error_of(raised)[0] == "ValidationException"


def test_members_in_the_query_string_are_validated_too(social):
    with pytest.raises(ClientError) as raised:
        social.delete_whatsapp_message_media(mediaId="not-a-media-id", originationPhoneNumberId=PHONE)
    assert error_of(raised) == (
        "ValidationException",
        'mediaId: "not-a-media-id" does not match the pattern [A-Za-z0-9]+',
    )

    with pytest.raises(ClientError) as raised:
        social.list_whatsapp_message_templates(id=waba_id(social), maxResults=500)
    assert error_of(raised) == ("ValidationException", "maxResults: 500 is above the maximum 100")


def test_a_bad_enum_deep_in_a_list_is_named_by_its_path_and_a_valid_unbuilt_call_says_so(social):
    flow = {"id": waba_id(social), "flowName": "signup"}
    with pytest.raises(ClientError) as raised:
        social.create_whatsapp_flow(**flow, categories=["SIGN_UP", "BOGUS"])
    code, message = error_of(raised)
    assert code == "ValidationException"
    assert message.startswith('categories[1]: "BOGUS" is not one of SIGN_UP, SIGN_IN')

    with pytest.raises(ClientError) as raised:
        social.create_whatsapp_flow(**flow, categories=["SIGN_UP"])
    assert error_of(raised)[0] == "NotImplementedException"
    assert "CreateWhatsAppFlow" in error_of(raised)[1]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_a_number_not_linked_to_the_account_is_not_found(social):
    with pytest.raises(ClientError) as raised:
        social.send_whatsapp_message(
            originationPhoneNumberId="phone-number-id-0000", message=whatsapp_text(), metaApiVersion="v20.0"
        )
    assert error_of(raised)[0] == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_three_throttles_then_success(social, fake_aws_clean):
    fake_aws_clean.fail("SendWhatsAppMessage", "ThrottlingException", status=429, message="slow down", times=3)
    request = {"originationPhoneNumberId": PHONE, "message": whatsapp_text(), "metaApiVersion": "v20.0"}

    for _ in range(3):
        with pytest.raises(ClientError) as raised:
            social.send_whatsapp_message(**request)
        assert error_of(raised) == ("ThrottlingException", "slow down")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert social.send_whatsapp_message(**request)["messageId"]

    assert [(c["status"], c["error"]) for c in fake_aws_clean.calls("SendWhatsAppMessage")] == [
        (429, "ThrottlingException"),
        (429, "ThrottlingException"),
        (429, "ThrottlingException"),
        (200, None),
    ]


def test_the_apps_retrying_client_rides_out_one_server_error(fake_aws_clean):
    """wecare.aws clients retry 5xx (standard mode): one fault costs a retry, not the send."""
    from wecare.aws import client, forget_clients

    # A fresh client: the cached one may have spent its retry quota (botocore's standard mode) on
    # earlier tests that reached the fake's port before the fake was started.
    forget_clients()
    fake_aws_clean.fail("SendWhatsAppMessage", "InternalServiceException", times=1)
    answer = client("socialmessaging").send_whatsapp_message(
        originationPhoneNumberId=PHONE, message=whatsapp_text(), metaApiVersion="v20.0"
    )

    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert [c["status"] for c in fake_aws_clean.calls()] == [500, 200]  # status from the model's error shape


def test_template_pages_cover_every_seeded_template(social, fake_aws_clean):
    seeded = fake_aws_clean.state.templates()
    pages = list(
        social.get_paginator("list_whatsapp_message_templates").paginate(
            id=waba_id(social), PaginationConfig={"PageSize": 2}
        )
    )

    assert len(pages) == (len(seeded) + 1) // 2
    listed = [t for page in pages for t in page["templates"]]
    assert [t["metaTemplateId"] for t in listed] == [t["metaTemplateId"] for t in seeded]
    assert set(listed[0]) == {
        "templateName",
        "metaTemplateId",
        "templateStatus",
        "templateCategory",
        "templateLanguage",
        "templateQualityScore",
    }


def test_a_template_is_meta_json_with_positional_body_parameters(social):
    answer = social.get_whatsapp_message_template(id=waba_id(social), metaTemplateId="1029384756000001")
    template = json.loads(answer["template"])

    assert (template["name"], template["language"], template["status"]) == ("welcome_message", "en_US", "APPROVED")
    kinds = {c["type"]: c for c in template["components"]}
    assert {"HEADER", "BODY", "BUTTONS"} <= set(kinds)
    assert "{{1}}" in kinds["BODY"]["text"] and "{{2}}" in kinds["BODY"]["text"]

    by_name = json.loads(
        social.get_whatsapp_message_template(
            id=waba_id(social), templateName="welcome_message", templateLanguageCode="hi"
        )["template"]
    )
    assert by_name["language"] == "hi"
    with pytest.raises(ClientError) as raised:
        social.get_whatsapp_message_template(id=waba_id(social), metaTemplateId="1")
    assert error_of(raised)[0] == "ResourceNotFoundException"


def test_templates_can_be_replaced_for_a_test(social, fake_aws_clean):
    fake_aws_clean.set_templates([{"templateName": "only_one", "templateLanguage": "en_GB"}])
    [listed] = social.list_whatsapp_message_templates(id=waba_id(social))["templates"]
    assert (listed["templateName"], listed["templateLanguage"], listed["templateStatus"]) == (
        "only_one",
        "en_GB",
        "APPROVED",
    )
    with pytest.raises(ValueError, match=r"templateLanguage: length 8 is above the maximum 6"):
        fake_aws_clean.set_templates([{"templateName": "x", "templateLanguage": "too_long"}])


def test_the_linked_account_has_the_apps_phone_numbers(social):
    account = social.get_linked_whatsapp_business_account(id=waba_id(social))["account"]
    assert [p["phoneNumberId"] for p in account["phoneNumbers"]] == settings.WHATSAPP_PHONE_NUMBER_IDS
    assert account["registrationStatus"] == "COMPLETE"


def test_a_linked_number_answers_every_member_the_model_requires_by_id_or_arn(social):
    required = social.meta.service_model.shape_for("WhatsAppPhoneNumberDetail").required_members
    first, second = settings.WHATSAPP_PHONE_NUMBER_IDS[:2]
    number = social.get_linked_whatsapp_business_account_phone_number(id=first)["phoneNumber"]
    assert set(required) <= set(number) and number["phoneNumberId"] == first
    # Each number has the display name Meta approved for it, and its number as people read it.
    assert number["displayPhoneNumberName"] == "WECARE.DIGITAL Sales"
    assert (number["phoneNumber"], number["displayPhoneNumber"]) == ("+14155550000", "+1 415-555-0000")
    by_arn = social.get_linked_whatsapp_business_account_phone_number(id=number["arn"])
    assert by_arn["phoneNumber"] == number and by_arn["linkedWhatsAppBusinessAccountId"] == waba_id(social)
    assert (
        social.get_linked_whatsapp_business_account_phone_number(id=second)["phoneNumber"]["displayPhoneNumberName"]
        == "WECARE.DIGITAL Support"
    )
    with pytest.raises(ClientError) as raised:
        social.get_linked_whatsapp_business_account_phone_number(id="phone-number-id-not-linked")
    assert error_of(raised)[0] == "ResourceNotFoundException"


def test_a_number_renamed_by_meta_answers_its_new_name_until_reset(social, fake_aws_clean):
    first = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
    fake_aws_clean.rename_number(first, "WECARE.DIGITAL Care")
    number = social.get_linked_whatsapp_business_account_phone_number(id=first)["phoneNumber"]
    assert number["displayPhoneNumberName"] == "WECARE.DIGITAL Care"
    listed = social.get_linked_whatsapp_business_account(id=waba_id(social))["account"]["phoneNumbers"][0]
    assert listed["displayPhoneNumberName"] == "WECARE.DIGITAL Care"
    with pytest.raises(ValueError, match="not a linked phone number"):
        fake_aws_clean.rename_number("phone-number-id-not-linked", "X")
    fake_aws_clean.reset()
    number = social.get_linked_whatsapp_business_account_phone_number(id=first)["phoneNumber"]
    assert number["displayPhoneNumberName"] == "WECARE.DIGITAL Sales"


def test_media_round_trip_through_moto_s3(social):
    s3 = boto3.session.Session().client("s3", endpoint_url=settings.AWS_ENDPOINT_URL, region_name="us-east-1")
    bucket = settings.MEDIA_BUCKET  # created by the session's bootstrap
    outgoing = f"{settings.MEDIA_OUTBOUND_PREFIX}fakeaws-test.png"
    s3.put_object(Bucket=bucket, Key=outgoing, Body=b"\x89PNG" + b"0" * 96, ContentType="image/png")

    media_id = social.post_whatsapp_message_media(
        originationPhoneNumberId=PHONE, sourceS3File={"bucketName": bucket, "key": outgoing}
    )["mediaId"]
    assert media_id.isdigit()
    with pytest.raises(ClientError) as raised:
        social.post_whatsapp_message_media(
            originationPhoneNumberId=PHONE, sourceS3File={"bucketName": bucket, "key": "missing.png"}
        )
    assert error_of(raised)[0] == "InvalidParametersException"

    # Media we uploaded comes back as itself; media from an inbound event as a 1234-byte JPEG.
    copied = f"{settings.MEDIA_INBOUND_PREFIX}fakeaws-copy.png"
    got = social.get_whatsapp_message_media(
        mediaId=media_id, originationPhoneNumberId=PHONE, destinationS3File={"bucketName": bucket, "key": copied}
    )
    assert (got["mimeType"], got["fileSize"]) == ("image/png", 100)
    assert s3.get_object(Bucket=bucket, Key=copied)["Body"].read().startswith(b"\x89PNG")

    inbound = f"{settings.MEDIA_INBOUND_PREFIX}fakeaws-inbound.jpg"
    got = social.get_whatsapp_message_media(
        mediaId="998877665544", originationPhoneNumberId=PHONE, destinationS3File={"bucketName": bucket, "key": inbound}
    )
    assert (got["mimeType"], got["fileSize"]) == ("image/jpeg", 1234)
    placed = s3.get_object(Bucket=bucket, Key=inbound)
    assert placed["ContentLength"] == 1234 and placed["ContentType"] == "image/jpeg"

    assert social.delete_whatsapp_message_media(mediaId=media_id, originationPhoneNumberId=PHONE)["success"] is True


def test_a_media_id_whatsapp_does_not_keep_is_refused_at_send(social, fake_aws_clean):
    s3 = boto3.session.Session().client("s3", endpoint_url=settings.AWS_ENDPOINT_URL, region_name="us-east-1")
    key = f"{settings.MEDIA_OUTBOUND_PREFIX}fakeaws-kept.png"
    s3.put_object(Bucket=settings.MEDIA_BUCKET, Key=key, Body=b"\x89PNG" + b"0" * 96, ContentType="image/png")
    media_id = social.post_whatsapp_message_media(
        originationPhoneNumberId=PHONE, sourceS3File={"bucketName": settings.MEDIA_BUCKET, "key": key}
    )["mediaId"]

    def send(media: str, origination: str = PHONE, template: bool = False) -> dict:
        image = {"type": "image", "image": {"id": media}}
        body = (
            {
                "type": "template",
                "template": {
                    "name": "order_update",
                    "language": {"code": "en_US"},
                    "components": [{"type": "header", "parameters": [image]}],
                },
            }
            if template
            else image
        )
        message = json.dumps({"messaging_product": "whatsapp", "to": "14155550123", **body}).encode()
        return social.send_whatsapp_message(
            originationPhoneNumberId=origination, message=message, metaApiVersion="v20.0"
        )

    assert send(media_id)["messageId"] and send(media_id, template=True)["messageId"]
    other_number = settings.WHATSAPP_PHONE_NUMBER_IDS[1]
    with pytest.raises(ClientError) as raised:
        send(media_id, origination=other_number)  # only the number that uploaded it may send it
    assert error_of(raised) == (
        "InvalidParametersException",
        f"(#131053) Media upload error: media id {media_id} was uploaded by another phone number",
    )

    assert fake_aws_clean.forget_media(media_id) == 1  # as WhatsApp does 30 days after the upload
    for template in (False, True):
        with pytest.raises(ClientError) as raised:
            send(media_id, template=template)
        code, message = error_of(raised)
        assert code == "InvalidParametersException" and message.startswith("(#131053) Media upload error")
    assert fake_aws_clean.forget_media(media_id) == 0
