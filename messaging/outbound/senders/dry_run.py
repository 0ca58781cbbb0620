"""The DRY_RUN stand-in for a provider client: it records each call, checks it against the
service's model like botocore would, and answers like the provider, without any network call."""

from __future__ import annotations

from typing import Any

from botocore import xform_name
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.validate import ParamValidator
from ulid import ULID

from messaging.outbound.senders.base import SendError

# A plausible answer per operation, so senders need no DRY_RUN branches of their own.
ANSWERS = {
    "SendWhatsAppMessage": lambda: {"messageId": f"dryrun-{ULID()}"},
    "PostWhatsAppMessageMedia": lambda: {"mediaId": f"dryrun-media-{ULID()}"},
    "SendTextMessage": lambda: {"MessageId": f"dryrun-{ULID()}"},
    "SendEmail": lambda: {"MessageId": f"dryrun-{ULID()}"},
}

_MODELS: dict[str, ServiceModel] = {}


def _model(service: str) -> ServiceModel:
    if service not in _MODELS:
        _MODELS[service] = ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)
    return _MODELS[service]


class DryRunClient:
    dry_run = True  # what senders read to keep DRY_RUN's stand-in ids apart (media ids)

    def __init__(self, service: str):
        self.service = service
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, method: str):
        model = _model(self.service)
        operation = next((op for op in model.operation_names if xform_name(op) == method), None)
        if operation is None or operation not in ANSWERS:
            raise AttributeError(f"DRY_RUN has no answer for {self.service}.{method}")

        def call(**params: Any) -> dict[str, Any]:
            report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
            if report.has_errors():
                raise SendError(
                    f"invalid {operation} request: {report.generate_report()}",
                    permanent=True,
                    details={"code": "ParamValidation"},
                )
            self.calls.append({"operation": operation, "params": params})
            return ANSWERS[operation]()

        return call
