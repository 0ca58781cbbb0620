"""The two AWS wire protocols the faked services speak, both ways.

Requests become one dict of members in wire form (what `validation.py` checks and what the calls
log records); answers and errors are shaped the way botocore's parsers read them:

- json (pinpoint-sms-voice-v2): the body is the input; errors are `{"__type": code, "message": ...}`.
- rest-json (socialmessaging, bedrock-agent-runtime, bedrock-runtime): members come from the URI
  labels, the query string, headers or the JSON body, per each member's `location`; errors carry the
  code in the `x-amzn-ErrorType` header and `{"message": ...}` in the body (we also put `__type`
  there). An event-stream answer (InvokeAgent) is a `StreamAnswer`, framed by `eventstream.py`.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # An event stream: sent as HTTP chunks, one a message, as AWS sends it (the body is unused).
    frames: list[bytes] | None = None
    # Send only this many frames, then close the connection without ending the chunked body:
    # a stream lost midway, which the client's HTTP library reports as a broken response.
    cut_after: int | None = None


@dataclass
class StreamAnswer:
    """A handler's answer to an operation whose output is an event stream (InvokeAgent):
    ``members`` are the output's other members (sent as headers), ``events`` the stream's
    ``(event type, members)`` in order. app.py validates each and frames them (eventstream.py)."""

    members: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]]


class SerializationError(Exception):
    """The body is not the JSON the protocol requires (AWS answers SerializationException)."""


def _content_type(protocol: str, json_version: str | None) -> str:
    return f"application/x-amz-json-{json_version or '1.0'}" if protocol == "json" else "application/json"


def json_response(
    protocol: str, json_version: str | None, status: int, payload: Any, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(
        status,
        body,
        {
            "Content-Type": _content_type(protocol, json_version),
            "x-amzn-RequestId": str(uuid.uuid4()),
            **(headers or {}),
        },
    )


def error_response(
    protocol: str, json_version: str | None, status: int, code: str, message: str, **extra: Any
) -> Response:
    """An error botocore turns into ClientError with ``code`` and ``message``."""
    body = {"__type": code, "message": message, **extra}
    if protocol == "json":
        body["Message"] = message  # the json-protocol models name the member `Message`
    headers = {"x-amzn-ErrorType": code} if protocol == "rest-json" else {}
    return json_response(protocol, json_version, status, body, headers)


# --- requests ---------------------------------------------------------------------------------


def _parse_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise SerializationError(f"the body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise SerializationError("the body must be a JSON object")
    return parsed


def parse_json_request(operation: OperationModel, body: bytes) -> tuple[dict[str, Any], list[str]]:
    return _parse_body(body), []


def _from_text(shape: Shape, text: str, path: str, errors: list[str]) -> Any:
    """A URI, query or header value (always text) as its member's wire type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long", "short", "byte"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        errors.append(f"{path}: expected a number, got {text!r}")
        return None
    if kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        errors.append(f"{path}: expected true or false, got {text!r}")
        return None
    if kind == "blob":
        return text  # already base64 in headers and query strings
    return text  # string, timestamp (checked as a date string)


def parse_rest_json_request(
    operation: OperationModel,
    labels: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
) -> tuple[dict[str, Any], list[str]]:
    """Collect every input member from where its `location` says it travels."""
    shape = operation.input_shape
    params: dict[str, Any] = {}
    errors: list[str] = []
    if shape is None:
        return params, errors
    lower_headers = {k.lower(): v for k, v in headers.items()}
    claimed_query: set[str] = set()
    body_members = {}
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in labels:
                params[name] = _from_text(member, labels[wire_name], name, errors)
        elif location == "querystring":
            if member.type_name == "map":
                continue  # takes whatever the named members leave, below
            claimed_query.add(wire_name)
            if wire_name in query:
                values = query[wire_name]
                if member.type_name == "list":
                    params[name] = [_from_text(member.member, v, f"{name}[{i}]", errors) for i, v in enumerate(values)]
                else:
                    params[name] = _from_text(member, values[-1], name, errors)
        elif location == "header":
            if wire_name.lower() in lower_headers:
                raw = lower_headers[wire_name.lower()]
                if member.type_name == "list":
                    params[name] = [_from_text(member.member, v.strip(), name, errors) for v in raw.split(",")]
                elif member.serialization.get("jsonvalue"):
                    try:
                        params[name] = json.loads(base64.b64decode(raw))
                    except ValueError:
                        errors.append(f"{name}: expected base64-encoded JSON in the {wire_name} header")
                else:
                    params[name] = _from_text(member, raw, name, errors)
        elif location == "headers":
            prefix = wire_name.lower()
            found = {k[len(prefix) :]: v for k, v in lower_headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        elif location == "statusCode":
            continue
        elif name != payload_name:
            body_members[name] = member
    for name, member in shape.members.items():
        if member.serialization.get("location") == "querystring" and member.type_name == "map":
            rest = {
                k: (v if member.value.type_name == "list" else v[-1])
                for k, v in query.items()
                if k not in claimed_query
            }
            if rest:
                params[name] = rest
    if payload_name:
        payload = shape.members[payload_name]
        if payload.type_name in ("blob", "string"):
            if body:
                params[payload_name] = base64.b64encode(body).decode() if payload.type_name == "blob" else body.decode()
        else:
            parsed = _parse_body(body)
            if parsed:
                params[payload_name] = parsed
    elif body_members or body.strip():
        for name, value in _parse_body(body).items():
            location = shape.members[name].serialization.get("location") if name in shape.members else None
            if location:
                errors.append(f"{name}: sent in the body, but this member travels in the {location}")
            else:
                params[name] = value  # unknown names are reported by the validator
    return params, errors


# --- answers ----------------------------------------------------------------------------------


def to_wire(shape: Shape | None, value: Any) -> Any:
    """A handler's Python answer (datetimes, bytes) as the JSON the protocol sends."""
    if value is None or shape is None or getattr(shape, "is_document_type", False):
        return value  # a document (free-form JSON) is sent as it is
    kind = shape.type_name
    # A value of the wrong kind is left as it is, for the validator to name.
    if kind == "structure" and isinstance(value, dict):
        return {name: to_wire(shape.members.get(name), v) for name, v in value.items() if v is not None}
    if kind == "list" and isinstance(value, list):
        return [to_wire(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: to_wire(shape.value, v) for k, v in value.items()}
    if kind == "blob" and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if kind == "timestamp" and isinstance(value, datetime):
        if shape.serialization.get("timestampFormat") == "iso8601":
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value.timestamp()
    return value
