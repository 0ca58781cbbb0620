"""The one NinjaAPI: it wires each app's Router and maps errors to HTTP, once and generically.

A domain error (``wecare.errors.DomainError`` and the apps' subclasses) carries its own status
and body, so one handler serves every app; no app's error is named here.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from ai.api import router as ai_router
from bulk.api import router as bulk_router
from contacts.api import router as contacts_router
from messaging.api import router as messages_router
from messaging.inbox.api import router as inbox_router
from messaging.inbox.thread_api import router as threads_router
from messaging.inbox.work_api import router as work_router
from messaging.voice_calls_api import router as voice_calls_router
from wecare.api_auth import ADMIN, VIEWER, docs_access
from wecare.bodylimits import too_large
from wecare.errors import DomainError


class WecareAPI(NinjaAPI):
    """The schema is built once per path prefix: it only changes with the code, and building it
    walks every operation's pydantic models each time /api/openapi.json or the docs page is asked
    for, several times the cost of the copy handed out instead."""

    _schemas: dict[str, Any]

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        prefix = self.get_root_path(path_params or {}) if path_prefix is None else path_prefix
        cache = self.__dict__.setdefault("_schemas", {})
        if prefix not in cache:
            cache[prefix] = super().get_openapi_schema(path_prefix=prefix)
        return copy.deepcopy(cache[prefix])  # a caller may change its copy


api = WecareAPI(
    title="WECARE.DIGITAL API",
    version="1.0",
    description="Contacts with per-channel consent, messages and campaigns. "
    "Authenticate with the browser session (send the CSRF token) or a Cognito JWT bearer token.",
    auth=ADMIN,
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=docs_access,
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.body(), status=exc.status)


@api.exception_handler(RequestDataTooBig)
def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


api.add_router("/contacts", contacts_router)
api.add_router("/messages", messages_router)
api.add_router("/bulk", bulk_router)
api.add_router("/inbox", inbox_router)
api.add_router("/threads", threads_router)
api.add_router("/work", work_router)
api.add_router("/voice-calls", voice_calls_router)
api.add_router("/ai", ai_router)

__all__ = ["VIEWER", "api"]
