"""Test controls under `/__fake/`: plain JSON over HTTP, no SigV4, on the same port as the fake.

    GET    /__fake/health      {"ok": true, "services": [...]}         (the dev stack waits on it)
    GET    /__fake/calls       {"calls": [...]}  accepted calls, oldest first; ?operation=&service= filter
    DELETE /__fake/calls       forget them
    GET    /__fake/rejected    {"rejected": [...]}  calls refused before any handler (invalid members)
    DELETE /__fake/rejected
    GET    /__fake/faults      {"faults": [...]}  queued faults
    POST   /__fake/faults      {"operation": "SendWhatsAppMessage", "error": "ThrottlingException",
                                "status": 429, "message": "...", "times": 3, "service": optional}
                               the next `times` valid calls of the operation fail that way;
                               with "midway": true (InvokeAgent) the call is answered and its event
                               stream breaks after the first event: an exception frame naming the
                               error (throttlingException, internalServerException...), or for
                               "ConnectionLost" the connection closes
    DELETE /__fake/faults
    GET    /__fake/templates   {"templates": [...]}
    POST   /__fake/templates   [{...}, ...] or {"templates": [...]}: replaces the WhatsApp templates
    GET    /__fake/latency     {"latency": [...]}  the rules in force
    POST   /__fake/latency     {"mean_ms": 250, "jitter_ms": 50, "operation": optional, "service": optional}
                               accepted calls (of that operation; every one without) wait mean ± jitter
                               (uniform) before their answer; a rule for the same operation replaces it
    DELETE /__fake/latency
    POST   /__fake/media/forget  {"mediaId": optional}: WhatsApp forgets that uploaded media id (every
                               one without), as it does 30 days after the upload; a send naming it
                               is refused (InvalidParametersException, "(#131053) Media upload error")
    GET    /__fake/sms/opt-outs  {"optOutLists": {"<list>": [{"number", "endUserOptedOut", "time"}]}}
    POST   /__fake/sms/opt-outs  {"number": "+14155550123", "list": optional ("Default")}: the number
                               opts out as when its owner texts STOP (EndUserOptedOut true)
    GET    /__fake/bedrock     {"mode": "answer"}
    POST   /__fake/bedrock     {"mode": "acting"}: the agent's draft tries to act ("I am sending the
                               offer to everyone now") and its stream ends with a returnControl
                               event naming an action (marketing / send_offer_to_all); "answer" is
                               the normal mode
    POST   /__fake/whatsapp/display-name  {"id": "phone-number-id-…", "name": "WECARE.DIGITAL Care"}:
                               Meta approved a new display name for that linked number;
                               GetLinkedWhatsAppBusinessAccount(PhoneNumber) answer it from now on
    POST   /__fake/reset       calls, rejected, faults, latency, media, opt-outs and new display
                               names forgotten; seeded templates, the empty "Default" opt-out list
                               and the agent's "answer" mode back

A call record is {"service", "operation", "params", "time", "status", "error"}; `params` are the
members as sent on the wire (blobs as base64 strings), `error` the error code answered, if any.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any, Protocol

from localaws.fakeaws import optouts, templates
from localaws.fakeaws.bedrock import MODES
from localaws.fakeaws.catalog import Catalog
from localaws.fakeaws.protocols import Response
from localaws.fakeaws.state import FakeState, Fault, Latency
from localaws.fakeaws.validation import validate

# The model's pattern for a destination number (pinpoint-sms-voice-v2 PhoneNumber).
PHONE_NUMBER = re.compile(r"\+?[1-9][0-9]{1,18}")
DISPLAY_NAME_MAX = 200  # socialmessaging's WhatsAppPhoneNumberName


class FakeAws(Protocol):
    """What the controls need of the fake (``localaws.fakeaws.app.FakeAws``, which calls them):
    described here so the two modules depend one way."""

    catalog: Catalog
    state: FakeState

    def has_operation(self, operation: str, service: str | None = None) -> bool: ...

    def linked_phone(self, phone_number_id: str) -> Any: ...

    def midway_errors(self, operation: str, service: str | None = None) -> list[str]: ...

    def add_fault(
        self,
        operation: str,
        error: str,
        status: int | None = None,
        message: str | None = None,
        times: int = 1,
        service: str | None = None,
        midway: bool = False,
    ) -> Fault: ...


TEMPLATE_JSON_MAX = 6000  # GetWhatsAppMessageTemplate's `template` member (MetaTemplate) max length


class ControlError(ValueError):
    pass


def _answer(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode(), {"Content-Type": "application/json"})


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise ControlError(f"the body is not JSON: {exc}") from None


def handle(fake: FakeAws, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Response:
    first = lambda name: query.get(name, [None])[-1]  # noqa: E731
    state = fake.state
    try:
        match (method, path.rstrip("/")):
            case ("GET", "/__fake/health"):
                return _answer(200, {"ok": True, "services": list(fake.catalog.services)})
            case ("GET", "/__fake/calls"):
                return _answer(200, {"calls": state.calls(first("operation"), first("service"))})
            case ("DELETE", "/__fake/calls"):
                state.clear_calls()
                return _answer(200, {"calls": []})
            case ("GET", "/__fake/rejected"):
                return _answer(200, {"rejected": state.rejected(first("operation"))})
            case ("DELETE", "/__fake/rejected"):
                state.clear_rejected()
                return _answer(200, {"rejected": []})
            case ("GET", "/__fake/faults"):
                return _answer(200, {"faults": state.faults()})
            case ("POST", "/__fake/faults"):
                return _answer(201, {"fault": add_fault(fake, _json_body(body))})
            case ("DELETE", "/__fake/faults"):
                state.clear_faults()
                return _answer(200, {"faults": []})
            case ("GET", "/__fake/latency"):
                return _answer(200, {"latency": state.latencies()})
            case ("POST", "/__fake/latency"):
                return _answer(201, {"latency": set_latency(fake, _json_body(body))})
            case ("DELETE", "/__fake/latency"):
                state.clear_latencies()
                return _answer(200, {"latency": []})
            case ("GET", "/__fake/templates"):
                return _answer(200, {"templates": state.templates()})
            case ("POST", "/__fake/templates"):
                return _answer(200, {"templates": set_templates(fake, _json_body(body))})
            case ("POST", "/__fake/media/forget"):
                spec = _json_body(body) or {}
                if not isinstance(spec, dict) or not isinstance(spec.get("mediaId", ""), str):
                    raise ControlError('expected {"mediaId": "<id>"} or {} for every media id')
                return _answer(200, {"forgotten": state.forget_media(spec.get("mediaId"))})
            case ("GET", "/__fake/sms/opt-outs"):
                return _answer(200, {"optOutLists": opt_outs(state)})
            case ("POST", "/__fake/sms/opt-outs"):
                return _answer(201, {"optedOut": customer_opts_out(state, _json_body(body))})
            case ("GET", "/__fake/bedrock"):
                return _answer(200, {"mode": state.bedrock_mode()})
            case ("POST", "/__fake/bedrock"):
                return _answer(200, {"mode": set_bedrock_mode(state, _json_body(body))})
            case ("POST", "/__fake/whatsapp/display-name"):
                return _answer(200, {"renamed": rename_number(fake, _json_body(body))})
            case ("POST", "/__fake/reset"):
                state.reset()
                return _answer(200, {"reset": True})
    except ControlError as exc:
        return _answer(400, {"message": str(exc)})
    return _answer(404, {"message": f"no control {method} {path}; see localaws/fakeaws/controls.py"})


def opt_outs(state: FakeState) -> dict[str, list[dict[str, Any]]]:
    return {
        found.name: [
            {"number": e.number, "endUserOptedOut": e.end_user, "time": e.when.isoformat()}
            for _, e in sorted(found.numbers.items())
        ]
        for found in state.opt_outs.all()
    }


def customer_opts_out(state: FakeState, spec: Any) -> dict[str, Any]:
    """A customer's STOP, which AWS records itself: the only way a number lands on a list with
    EndUserOptedOut true (PutOptedOutNumber records false)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("number"), str):
        raise ControlError('expected {"number": "+<E.164>", "list": optional name}')
    unknown = set(spec) - {"number", "list"}
    if unknown:
        raise ControlError(f"unknown opt-out fields: {', '.join(sorted(unknown))}")
    if not PHONE_NUMBER.fullmatch(spec["number"]):
        raise ControlError(f"number {spec['number']!r} is not a phone number in E.164")
    name = spec.get("list", optouts.DEFAULT_LIST)
    entry = state.opt_outs.put(name, spec["number"], end_user=True) if isinstance(name, str) else None
    if entry is None:
        raise ControlError(f"no opt-out list {name!r}")
    return {"list": name, "number": entry.number, "endUserOptedOut": True, "time": entry.when.isoformat()}


def rename_number(fake: FakeAws, spec: Any) -> dict[str, str]:
    """A display name Meta approved (what its phone_number_name_update webhook then reports)."""
    if not isinstance(spec, dict) or set(spec) != {"id", "name"} or not all(isinstance(v, str) for v in spec.values()):
        raise ControlError('expected {"id": "<phone-number id>", "name": "<display name>"}')
    if fake.linked_phone(spec["id"]) is None:
        raise ControlError(f"{spec['id']} is not a linked phone number")
    if len(spec["name"]) > DISPLAY_NAME_MAX:
        raise ControlError(f"a display name is at most {DISPLAY_NAME_MAX} characters (WhatsAppPhoneNumberName)")
    fake.state.rename_number(spec["id"], spec["name"])
    return {"id": spec["id"], "name": spec["name"]}


def set_bedrock_mode(state: FakeState, spec: Any) -> str:
    if not isinstance(spec, dict) or set(spec) != {"mode"} or spec["mode"] not in MODES:
        raise ControlError(f'expected {{"mode": one of {", ".join(MODES)}}}')
    state.set_bedrock_mode(spec["mode"])
    return spec["mode"]


def set_latency(fake: FakeAws, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ControlError(
            'latency is {"mean_ms": <ms>, "jitter_ms": <ms>, "operation": optional, "service": optional}'
        )
    unknown = set(spec) - {"mean_ms", "jitter_ms", "operation", "service"}
    if unknown:
        raise ControlError(f"unknown latency fields: {', '.join(sorted(unknown))}")
    mean, jitter = spec.get("mean_ms"), spec.get("jitter_ms", 0)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (mean, jitter))
    if not numbers or not 0 <= jitter <= mean <= 60_000:
        raise ControlError("mean_ms and jitter_ms are milliseconds with 0 <= jitter_ms <= mean_ms <= 60000")
    operation, service = spec.get("operation"), spec.get("service")
    if service is not None and service not in fake.catalog.services:
        raise ControlError(f"service {service!r} is not faked here ({', '.join(fake.catalog.services)})")
    if operation is not None and not (isinstance(operation, str) and fake.has_operation(operation, service)):
        raise ControlError(f"no faked service has the operation {operation!r}")
    rule = Latency(float(mean), float(jitter), operation, service)
    fake.state.set_latency(rule)
    return asdict(rule)


def add_fault(fake: FakeAws, spec: Any) -> dict[str, Any]:
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("operation"), str)
        or not isinstance(spec.get("error"), str)
    ):
        raise ControlError('a fault needs at least {"operation": "<Operation>", "error": "<ErrorCode>"}')
    unknown = set(spec) - {"operation", "error", "status", "message", "times", "service", "midway"}
    if unknown:
        raise ControlError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    midway = spec.get("midway", False)
    if not isinstance(midway, bool):
        raise ControlError("midway is true or false")
    service = spec.get("service")
    if service is not None and service not in fake.catalog.services:
        raise ControlError(f"service {service!r} is not faked here ({', '.join(fake.catalog.services)})")
    if not fake.has_operation(spec["operation"], service):
        raise ControlError(f"no faked service has the operation {spec['operation']!r}")  # a typo would never fire
    status, times = spec.get("status"), spec.get("times", 1)
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ControlError("status must be an HTTP error status (400-599)")
    if not isinstance(times, int) or times < 1:
        raise ControlError("times must be a whole number of calls, at least 1")
    if midway:
        errors = fake.midway_errors(spec["operation"], service)
        if not errors:
            raise ControlError(f"{spec['operation']} answers no event stream: a midway fault needs one")
        if spec["error"] not in errors:
            raise ControlError(f"a stream of {spec['operation']} breaks with one of: {', '.join(errors)}")
    fault = fake.add_fault(spec["operation"], spec["error"], status, spec.get("message"), times, service, midway)
    return {
        "operation": fault.operation,
        "error": fault.error,
        "status": fault.status,
        "message": fault.message,
        "times": fault.times,
        "service": fault.service,
        "midway": fault.midway,
    }


def set_templates(fake: FakeAws, spec: Any) -> list[dict[str, Any]]:
    """Replace the templates, each checked as the TemplateSummary AWS would send for it."""
    items = spec.get("templates") if isinstance(spec, dict) else spec
    if not isinstance(items, list):
        raise ControlError('expected a list of templates, or {"templates": [...]}')
    summary_shape = fake.catalog.services["socialmessaging"].model.shape_for("TemplateSummary")
    done, problems, ids = [], [], set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("templateName"):
            problems.append(f"[{index}]: needs at least a templateName")
            continue
        template = templates.complete(item)
        problems += [f"[{index}].{p}" for p in validate(summary_shape, templates.summary(template))]
        extra = set(template) - set(templates.SUMMARY_MEMBERS) - {"components"}
        if extra:
            problems.append(f"[{index}]: unknown fields {', '.join(sorted(extra))}")
        components = template["components"]
        if not isinstance(components, list) or not all(isinstance(c, dict) and "type" in c for c in components):
            problems.append(f"[{index}].components: a list of Meta components, each with a type")
        elif len(templates.meta_json(template)) > TEMPLATE_JSON_MAX:
            problems.append(f"[{index}]: the Meta template JSON is over {TEMPLATE_JSON_MAX} characters")
        if template["metaTemplateId"] in ids:
            problems.append(f"[{index}].metaTemplateId: {template['metaTemplateId']} is used twice")
        ids.add(template["metaTemplateId"])
        done.append(template)
    if problems:
        raise ControlError("; ".join(problems))
    fake.state.set_templates(done)
    return done
