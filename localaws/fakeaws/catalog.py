"""The services the fake answers for, read from botocore's own service models, and how a request
finds its operation.

Using the models botocore ships (the very ones the app's boto3 clients serialize with) means the
fake's idea of an operation, its URI and its members can never drift from the client's.

- json protocol (pinpoint-sms-voice-v2): `POST /` with `X-Amz-Target: <targetPrefix>.<Operation>`.
- rest-json protocol (socialmessaging, bedrock-agent-runtime, bedrock-runtime): HTTP method + the
  operation's `requestUri` template (`/v1/whatsapp/send`, `/agents/{agentId}/...`). When two services
  could own a path, the service name in the SigV4 credential scope of the Authorization header
  decides (both Bedrock runtimes sign as `bedrock`; their paths do not overlap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

import botocore.loaders
import botocore.model

# The services wecare/aws.py sends to the fake (FAKED_SERVICES there).
SERVICE_NAMES = ("socialmessaging", "pinpoint-sms-voice-v2", "bedrock-agent-runtime", "bedrock-runtime")

# "Credential=AKID/20240101/us-east-1/social-messaging/aws4_request"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_URI_LABEL = re.compile(r"\{([^}]+?)(\+?)\}")


@dataclass(frozen=True)
class Route:
    """One rest-json operation's `METHOD /path/{label}?static` as a regex over the path."""

    method: str
    path: re.Pattern[str]
    labels: dict[str, str]  # regex group -> label name in the URI template
    static_query: dict[str, str]  # e.g. `?tagging` in an S3-style requestUri
    operation: botocore.model.OperationModel
    specificity: int  # literal characters: a fixed path wins over a label that could also match

    def match(self, method: str, path: str, query: dict[str, list[str]]) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.path.fullmatch(path)
        if not found:
            return None
        for key, value in self.static_query.items():
            if key not in query or (value and value not in query[key]):
                return None
        return {label: unquote(found.group(group)) for group, label in self.labels.items()}


def _route(operation: botocore.model.OperationModel) -> Route:
    template = operation.http["requestUri"]
    path_template, _, query_template = template.partition("?")
    labels: dict[str, str] = {}
    regex = ""
    position = 0
    for number, label in enumerate(_URI_LABEL.finditer(path_template)):
        regex += re.escape(path_template[position : label.start()])
        group = f"g{number}"  # label names need not be valid regex group names
        labels[group] = label.group(1)
        regex += f"(?P<{group}>.+)" if label.group(2) else f"(?P<{group}>[^/]+)"
        position = label.end()
    regex += re.escape(path_template[position:])
    static_query = {}
    for part in filter(None, query_template.split("&")):
        key, _, value = part.partition("=")
        static_query[key] = value
    literal = len(_URI_LABEL.sub("", path_template))
    return Route(operation.http["method"], re.compile(regex), labels, static_query, operation, literal)


@dataclass
class Service:
    name: str
    model: botocore.model.ServiceModel
    routes: list[Route] = field(default_factory=list)

    @property
    def protocol(self) -> str:
        return self.model.protocol

    @property
    def signing_name(self) -> str:
        return self.model.signing_name or self.model.endpoint_prefix

    def operation(self, name: str) -> botocore.model.OperationModel | None:
        return self.model.operation_model(name) if name in self.model.operation_names else None

    def error_status(self, code: str) -> int | None:
        """The HTTP status the model gives an error shape (`ThrottledRequestException` -> 429)."""
        for shape in self.model.error_shapes:
            if shape.name == code:
                return shape.metadata.get("error", {}).get("httpStatusCode")
        return None


class Catalog:
    def __init__(self, names: tuple[str, ...] = SERVICE_NAMES):
        loader = botocore.loaders.Loader()
        self.services: dict[str, Service] = {}
        for name in names:
            model = botocore.model.ServiceModel(loader.load_service_model(name, "service-2"), service_name=name)
            service = Service(name, model)
            if service.protocol == "rest-json":
                routes = [_route(model.operation_model(op)) for op in model.operation_names]
                service.routes = sorted(routes, key=lambda r: -r.specificity)
            self.services[name] = service

    def by_target(self, target: str) -> tuple[Service, botocore.model.OperationModel | None] | None:
        """json protocol: `PinpointSMSVoiceV2.SendTextMessage` -> (service, operation or None)."""
        prefix, _, operation = target.rpartition(".")
        for service in self.services.values():
            if service.protocol == "json" and service.model.metadata.get("targetPrefix") == prefix:
                return service, service.operation(operation)
        return None

    def by_path(
        self, method: str, path: str, query: dict[str, list[str]], authorization: str
    ) -> tuple[Service, botocore.model.OperationModel, dict[str, str]] | None:
        """rest-json: the operation whose method and requestUri match, preferring the signer's service."""
        candidates = [s for s in self.services.values() if s.protocol == "rest-json"]
        scope = _CREDENTIAL_SCOPE.search(authorization or "")
        if scope:
            signed = [s for s in candidates if s.signing_name == scope.group(1)]
            candidates = signed + [s for s in candidates if s not in signed]
        for service in candidates:
            for route in service.routes:
                labels = route.match(method, path, query)
                if labels is not None:
                    return service, route.operation, labels
        return None


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """Loaded once per process: the models are read-only, and every server can share them."""
    return Catalog()
