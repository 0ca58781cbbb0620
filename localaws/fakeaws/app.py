"""One request in, one answer out: find the operation, check it against the model, answer.

Kept apart from the HTTP server so the order of the steps reads in one place:

1. `/__fake/...` goes to the test controls (`controls.py`).
2. The operation is found from `X-Amz-Target` (json) or method + path (rest-json); an unknown one
   is refused with UnknownOperationException.
3. The members are parsed and validated against the model; any problem answers 400
   ValidationException (`<path.to.member>: <what is wrong>`, all problems joined by "; ") and the
   call is logged under `/__fake/rejected`, never reaching a handler.
4. The call is logged under `/__fake/calls`; a queued fault for it answers now, if there is one.
5. The operation's handler answers. A valid call of an operation the fake has no handler for gets
   501 NotImplementedException naming it: an empty "success" would let a test pass for the
   wrong reason. The handler's answer is itself validated against the output shape, so a fake that
   drifts from the model fails loudly (500) instead of feeding the app something AWS never sends.
   An event-stream answer (InvokeAgent) is validated event by event and framed as AWS frames it
   (`eventstream.py`); a queued midway fault breaks it after its first event.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.model

from localaws.fakeaws import account as linked_account
from localaws.fakeaws import bedrock, controls, eventstream, sms, whatsapp
from localaws.fakeaws.catalog import Catalog, Service, default_catalog
from localaws.fakeaws.context import Context, ServiceError
from localaws.fakeaws.protocols import (
    Response,
    SerializationError,
    StreamAnswer,
    error_response,
    json_response,
    parse_json_request,
    parse_rest_json_request,
    to_wire,
)
from localaws.fakeaws.state import FakeState, Fault
from localaws.fakeaws.validation import validate

log = logging.getLogger(__name__)

HANDLERS = {
    **{("socialmessaging", name): handler for name, handler in whatsapp.HANDLERS.items()},
    **{("pinpoint-sms-voice-v2", name): handler for name, handler in sms.HANDLERS.items()},
    **{("bedrock-agent-runtime", name): handler for name, handler in bedrock.AGENT_HANDLERS.items()},
    **{("bedrock-runtime", name): handler for name, handler in bedrock.RUNTIME_HANDLERS.items()},
}
# A midway fault with this error closes the connection in the middle of the stream instead of
# sending an exception frame: what a dropped connection or a proxy's timeout looks like.
CONNECTION_LOST = "ConnectionLost"


def _stream_shape(operation: botocore.model.OperationModel) -> botocore.model.StructureShape | None:
    """The event-stream member of the operation's output (InvokeAgent's `completion`), if any."""
    shape = operation.output_shape
    for member in shape.members.values() if shape is not None else []:
        if member.serialization.get("eventstream"):
            return member
    return None


def _error(service: Service | None, status: int, code: str, message: str, **extra: Any) -> Response:
    protocol = service.protocol if service else "rest-json"
    version = service.model.metadata.get("jsonVersion") if service else None
    return error_response(protocol, version, status, code, message, **extra)


class FakeAws:
    def __init__(
        self, catalog: Catalog | None = None, state: FakeState | None = None, s3_endpoint_url: str | None = None
    ):
        self.catalog = catalog or default_catalog()
        self.state = state or FakeState()
        self.context = Context(self.state, linked_account.from_environment(), s3_endpoint_url)

    # --- faults, for the controls and for FakeAwsServer.fail ---------------------------------
    def fault_status(self, error: str, service: str | None = None) -> int:
        """The status a fault answers with when none is given: the model's, else the usual one."""
        for candidate in self.catalog.services.values():
            if service in (None, candidate.name) and (status := candidate.error_status(error)):
                return status
        if "Throttl" in error or error == "TooManyRequestsException":
            return 429
        if error == "ServiceUnavailableException":
            return 503
        if error.startswith("Internal"):
            return 500
        return {"AccessDeniedException": 403, "ResourceNotFoundException": 404, "ConflictException": 409}.get(
            error, 400
        )

    def linked_phone(self, phone_number_id: str) -> linked_account.PhoneNumber | None:
        return self.context.account.phone(phone_number_id)

    def has_operation(self, operation: str, service: str | None = None) -> bool:
        return any(s.operation(operation) for s in self.catalog.services.values() if service in (None, s.name))

    def midway_errors(self, operation: str, service: str | None = None) -> list[str]:
        """The errors a stream of ``operation`` can break with midway: the exception events its
        model lists (throttlingException...) and ConnectionLost; none if it answers no stream."""
        for candidate in self.catalog.services.values():
            found = candidate.operation(operation) if service in (None, candidate.name) else None
            stream = _stream_shape(found) if found else None
            if stream is not None:
                errors = [name for name, shape in stream.members.items() if shape.metadata.get("exception")]
                return [*errors, CONNECTION_LOST]
        return []

    # --- requests ------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path == "/__fake" or url.path.startswith("/__fake/"):
            return controls.handle(self, method, url.path, query, body)
        try:
            return self._aws_call(method, url.path, query, headers, body)
        except Exception as exc:  # a bug in the fake: say so in the answer, keep serving
            log.exception("fakeaws: %s %s failed", method, target)
            return _error(None, 500, "InternalFailure", f"fakeaws failed on {method} {url.path}: {exc!r}")

    def _aws_call(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Response:
        header = {k.lower(): v for k, v in headers.items()}
        if "x-amz-target" in header:
            target = header["x-amz-target"]
            found = self.catalog.by_target(target)
            if found is None:
                return _error(
                    None, 400, "UnknownOperationException", f"fakeaws serves no service with the target {target!r}"
                )
            service, operation = found
            if operation is None:
                return _error(
                    service,
                    400,
                    "UnknownOperationException",
                    f"{service.name} has no operation {target.rpartition('.')[2]!r}",
                )
            parse = lambda: parse_json_request(operation, body)  # noqa: E731
        else:
            routed = self.catalog.by_path(method, path, query, header.get("authorization", ""))
            if routed is None:
                return _error(
                    None,
                    404,
                    "UnknownOperationException",
                    f"no operation of {', '.join(self.catalog.services)} answers {method} {path}",
                )
            service, operation, labels = routed
            parse = lambda: parse_rest_json_request(operation, labels, query, headers, body)  # noqa: E731

        try:
            params, errors = parse()
        except SerializationError as exc:
            self.state.record_rejected(
                service.name, operation.name, body.decode("utf-8", "replace"), [str(exc)], "SerializationException"
            )
            return _error(service, 400, "SerializationException", str(exc))
        errors += validate(operation.input_shape, params)
        if errors:
            self.state.record_rejected(service.name, operation.name, params, errors, "ValidationException")
            log.info("fakeaws: refused %s.%s: %s", service.name, operation.name, "; ".join(errors))
            return self._validation_error(service, errors)

        call = self.state.record_call(service.name, operation.name, params)
        # A real provider takes its time; each request waits on its own server thread, so calls
        # in flight at once overlap here as they do at AWS.
        delay = self.state.latency_for(service.name, operation.name)
        if delay:
            time.sleep(delay)
        fault = self.state.take_fault(service.name, operation.name)
        if fault is not None and not fault.midway:
            self.state.finish_call(call, fault.status, fault.error)
            return _error(service, fault.status, fault.error, fault.message)

        handler = HANDLERS.get((service.name, operation.name))
        if handler is None:
            self.state.finish_call(call, 501, "NotImplementedException")
            message = (
                f"{service.name} {operation.name} is a valid call, but "
                "the local fake (localaws/fakeaws) does not implement it"
            )
            return _error(service, 501, "NotImplementedException", message)
        try:
            output = handler(self.context, params)
        except ServiceError as exc:
            status = exc.status or service.error_status(exc.code) or 400
            self.state.finish_call(call, status, exc.code)
            return _error(service, status, exc.code, exc.message, **exc.extra)
        if isinstance(output, StreamAnswer):
            return self._stream(service, operation, call, output, fault)

        wire = to_wire(operation.output_shape, output)
        problems = validate(operation.output_shape, wire)
        if problems:
            return self._invalid_answer(service, operation.name, call, problems)
        status = operation.http.get("responseCode", 200)
        self.state.finish_call(call, status, None)
        return json_response(service.protocol, service.model.metadata.get("jsonVersion"), status, wire)

    def _stream(
        self,
        service: Service,
        operation: botocore.model.OperationModel,
        call: dict[str, Any],
        answer: StreamAnswer,
        fault: Fault | None,
    ) -> Response:
        """The answer's members as headers, its events framed one after another; each checked
        against its shape first, as `_aws_call` checks a JSON answer."""
        shape = operation.output_shape
        stream = _stream_shape(operation)
        assert shape is not None and stream is not None, f"{operation.name} answers no event stream"
        members = to_wire(shape, answer.members)
        # Member by member: the stream itself (the payload, a required member) is the events.
        problems = [p for name, value in members.items() for p in validate(shape.members[name], value, name)]
        frames = []
        for index, (kind, payload) in enumerate(answer.events):
            wire = to_wire(stream.members[kind], payload)
            problems += validate(stream.members[kind], wire, f"{kind}[{index}]")
            frames.append(eventstream.event(kind, wire))
        if problems:
            return self._invalid_answer(service, operation.name, call, problems)
        headers = {
            shape.members[name].serialization.get("name", name): str(value)
            for name, value in members.items()
            if shape.members[name].serialization.get("location") == "header"
        }
        headers |= {"Content-Type": "application/vnd.amazon.eventstream", "x-amzn-RequestId": str(uuid.uuid4())}
        cut_after = None
        if fault is not None:  # a midway fault: the stream breaks after its first event
            if fault.error == CONNECTION_LOST:
                cut_after = 1
            else:
                frames = [*frames[:1], eventstream.exception(fault.error, fault.message)]
        self.state.finish_call(call, 200, fault.error if fault else None)
        return Response(200, headers=headers, frames=frames, cut_after=cut_after)

    def _invalid_answer(self, service: Service, operation: str, call: dict[str, Any], problems: list[str]) -> Response:
        """The fake built an answer its model does not allow: fail loudly (500), never feed the app
        something AWS never sends."""
        log.error("fakeaws: built an invalid %s answer: %s", operation, "; ".join(problems))
        self.state.finish_call(call, 500, "InternalFailure")
        return _error(
            service, 500, "InternalFailure", f"fakeaws built an invalid {operation} answer: {'; '.join(problems)}"
        )

    def _validation_error(self, service: Service, errors: list[str]) -> Response:
        message = "; ".join(errors)
        if service.protocol == "json":
            # pinpoint-sms-voice-v2 models its ValidationException with a reason and the fields.
            fields = [{"Name": e.partition(": ")[0], "Message": e.partition(": ")[2]} for e in errors]
            return _error(service, 400, "ValidationException", message, Reason="FIELD_VALIDATION_FAILED", Fields=fields)
        return _error(service, 400, "ValidationException", message)

    def add_fault(
        self,
        operation: str,
        error: str,
        status: int | None = None,
        message: str | None = None,
        times: int = 1,
        service: str | None = None,
        midway: bool = False,
    ) -> Fault:
        fault = Fault(
            operation,
            error,
            200 if midway else status or self.fault_status(error, service),
            message or f"fakeaws: injected {error}",
            times,
            service,
            midway,
        )
        self.state.add_fault(fault)
        return fault
