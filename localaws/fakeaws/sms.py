"""pinpoint-sms-voice-v2 (AWS End User Messaging SMS): the operations the app uses, sending, the
SMS opt-out lists and the configuration sets bootstrap creates. How tests and `make run` drive the
lists: docs/local-stack.md.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from localaws.fakeaws.config_sets import ConfigurationSet
from localaws.fakeaws.context import Context, ServiceError
from localaws.fakeaws.optouts import OptedOut, OptOutList

# Without MaxResults, AWS answers pages of this many (the model's maximum is 100).
DEFAULT_PAGE_SIZE = 25


def send_text_message(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    # The origination identity (the SMS pool) is checked against the model's pattern only: the
    # fake does not keep a list of pools, phone numbers or sender ids, nor which opt-out list each
    # uses, so a number on any of its opt-out lists is refused.
    number = params["DestinationPhoneNumber"]
    if context.state.opt_outs.holding(number):
        # AWS End User Messaging SMS "doesn't attempt to send the message" to a number on the
        # opt-out list of the sending identity
        # (https://docs.aws.amazon.com/sms-voice/latest/userguide/opt-out-list.html); the API
        # refuses it with the model's ConflictException, reason DESTINATION_PHONE_NUMBER_OPTED_OUT
        # (https://docs.aws.amazon.com/botocore/latest/reference/services/pinpoint-sms-voice-v2/client/exceptions/ConflictException.html).
        raise ServiceError(
            "ConflictException",
            f"The destination phone number {number} is opted out",
            Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT",
            ResourceType="opted-out-number",
            ResourceId=number,
        )
    return {"MessageId": str(uuid.uuid4())}


# --- opt-out lists -----------------------------------------------------------------------------


def _list_or_refuse(context: Context, name: str) -> OptOutList:
    found = context.state.opt_outs.find(name)
    if found is None:
        raise ServiceError(
            "ResourceNotFoundException",
            f"Opt-out list {name} not found",
            ResourceType="opt-out-list",
            ResourceId=name,
        )
    return found


def _number_answer(found: OptOutList, entry: OptedOut) -> dict[str, Any]:
    return {
        "OptOutListArn": found.arn,
        "OptOutListName": found.name,
        "OptedOutNumber": entry.number,
        "OptedOutTimestamp": entry.when,
        "EndUserOptedOut": entry.end_user,
    }


def create_opt_out_list(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    created = context.state.opt_outs.create(params["OptOutListName"])
    if created is None:
        raise ServiceError(
            "ConflictException",
            f"Opt-out list {params['OptOutListName']} already exists",
            Reason="RESOURCE_ALREADY_EXISTS",
            ResourceType="opt-out-list",
            ResourceId=params["OptOutListName"],
        )
    # Tags are accepted (the model checks them) but not kept: nothing in the app reads them back.
    return {
        "OptOutListArn": created.arn,
        "OptOutListName": created.name,
        "Tags": params.get("Tags", []),
        "CreatedTimestamp": created.created,
    }


def describe_opt_out_lists(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("Owner") == "SHARED":
        return {"OptOutLists": []}  # the fake's account shares nothing with others
    names = params.get("OptOutListNames")
    chosen = [_list_or_refuse(context, name) for name in names] if names else context.state.opt_outs.all()
    page, token = _page(chosen, params)
    answer: dict[str, Any] = {
        "OptOutLists": [
            {"OptOutListArn": found.arn, "OptOutListName": found.name, "CreatedTimestamp": found.created}
            for found in page
        ]
    }
    if token:
        answer["NextToken"] = token
    return answer


def put_opted_out_number(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    found = _list_or_refuse(context, params["OptOutListName"])
    entry = context.state.opt_outs.put(found.name, params["OptedOutNumber"], end_user=False)
    assert entry is not None  # the list was just found, and lists are never deleted here
    return _number_answer(found, entry)


def delete_opted_out_number(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    # AWS allows deleting a number only once every 30 days; the fake does not keep that clock.
    found = _list_or_refuse(context, params["OptOutListName"])
    entry = context.state.opt_outs.remove(found.name, params["OptedOutNumber"])
    if entry is None:
        raise ServiceError(
            "ResourceNotFoundException",
            f"Opted out number {params['OptedOutNumber']} not found in {found.name}",
            ResourceType="opted-out-number",
            ResourceId=params["OptedOutNumber"],
        )
    return _number_answer(found, entry)


def describe_opted_out_numbers(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    found = _list_or_refuse(context, params["OptOutListName"])
    entries = sorted(found.numbers.values(), key=lambda entry: entry.number)
    if params.get("OptedOutNumbers"):
        # Naming a number that is not on the list is an error, as in the API reference.
        missing = [n for n in params["OptedOutNumbers"] if n not in found.numbers]
        if missing:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Opted out number {missing[0]} not found in {found.name}",
                ResourceType="opted-out-number",
                ResourceId=missing[0],
            )
        entries = [entry for entry in entries if entry.number in params["OptedOutNumbers"]]
    for spec in params.get("Filters", []):
        # The model's only filter name: end-user-opted-out, values "true" / "false".
        wanted = {value.lower() for value in spec["Values"]}
        entries = [entry for entry in entries if str(entry.end_user).lower() in wanted]
    page, token = _page(entries, params)
    answer: dict[str, Any] = {
        "OptOutListArn": found.arn,
        "OptOutListName": found.name,
        "OptedOutNumbers": [
            {"OptedOutNumber": e.number, "OptedOutTimestamp": e.when, "EndUserOptedOut": e.end_user} for e in page
        ],
    }
    if token:
        answer["NextToken"] = token
    return answer


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the token of the next (None on the last), as MaxResults and
    NextToken ask. The token is opaque to callers; a forged one is refused as AWS would."""
    size = params.get("MaxResults") or DEFAULT_PAGE_SIZE
    start = 0
    if params.get("NextToken"):
        try:
            start = int(json.loads(base64.urlsafe_b64decode(params["NextToken"]))["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceError(
                "ValidationException", "The NextToken is not valid", Reason="INVALID_NEXT_TOKEN"
            ) from exc
    end = start + size
    token = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode() if end < len(items) else None
    return items[start:end], token


# --- configuration sets ------------------------------------------------------------------------


def _set_answer(found: ConfigurationSet) -> dict[str, Any]:
    return {
        "ConfigurationSetArn": found.arn,
        "ConfigurationSetName": found.name,
        "EventDestinations": list(found.destinations.values()),
        "CreatedTimestamp": found.created,
    }


def create_configuration_set(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    created = context.state.config_sets.create(params["ConfigurationSetName"])
    if created is None:
        raise ServiceError(
            "ConflictException",
            f"Configuration set {params['ConfigurationSetName']} already exists",
            Reason="RESOURCE_ALREADY_EXISTS",
            ResourceType="configuration-set",
            ResourceId=params["ConfigurationSetName"],
        )
    return {
        "ConfigurationSetArn": created.arn,
        "ConfigurationSetName": created.name,
        "Tags": params.get("Tags", []),
        "CreatedTimestamp": created.created,
    }


def describe_configuration_sets(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    names = params.get("ConfigurationSetNames")
    chosen = []
    for name in names or []:
        found = context.state.config_sets.find(name)
        if found is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Configuration set {name} not found",
                ResourceType="configuration-set",
                ResourceId=name,
            )
        chosen.append(found)
    # Filters (event-destination-name, matching-event-types...) are validated but not applied:
    # nothing in the app uses them.
    page, token = _page(chosen if names else context.state.config_sets.all(), params)
    answer: dict[str, Any] = {"ConfigurationSets": [_set_answer(found) for found in page]}
    if token:
        answer["NextToken"] = token
    return answer


def create_event_destination(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    destination = {
        "EventDestinationName": params["EventDestinationName"],
        "Enabled": True,
        "MatchingEventTypes": params["MatchingEventTypes"],
        **{
            key: params[key]
            for key in ("CloudWatchLogsDestination", "KinesisFirehoseDestination", "SnsDestination")
            if key in params
        },
    }
    found = context.state.config_sets.add_destination(params["ConfigurationSetName"], destination)
    if found is None:
        raise ServiceError(
            "ResourceNotFoundException",
            f"Configuration set {params['ConfigurationSetName']} not found",
            ResourceType="configuration-set",
            ResourceId=params["ConfigurationSetName"],
        )
    if found is False:
        raise ServiceError(
            "ConflictException",
            f"Event destination {params['EventDestinationName']} already exists",
            Reason="RESOURCE_ALREADY_EXISTS",
            ResourceType="event-destination",
            ResourceId=params["EventDestinationName"],
        )
    assert isinstance(found, ConfigurationSet)
    return {"ConfigurationSetArn": found.arn, "ConfigurationSetName": found.name, "EventDestination": destination}


HANDLERS = {
    "SendTextMessage": send_text_message,
    "CreateOptOutList": create_opt_out_list,
    "DescribeOptOutLists": describe_opt_out_lists,
    "PutOptedOutNumber": put_opted_out_number,
    "DeleteOptedOutNumber": delete_opted_out_number,
    "DescribeOptedOutNumbers": describe_opted_out_numbers,
    "CreateConfigurationSet": create_configuration_set,
    "DescribeConfigurationSets": describe_configuration_sets,
    "CreateEventDestination": create_event_destination,
}
