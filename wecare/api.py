"""The one NinjaAPI. Each app adds its Router; domain errors map to HTTP here, once."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from messaging.outbound.send import Refused
from wecare.api_auth import ADMIN, VIEWER, docs_access
from wecare.bodylimits import too_large
from wecare.dynamo import InvalidCursor
from wecare.errors import Conflict, FieldErrors, NotFound

api = NinjaAPI(
    title="WECARE.DIGITAL API",
    version="1.0",
    description="Contacts with per-channel consent, messages and campaigns. "
    "Authenticate with the browser session (send the CSRF token) or a Cognito JWT bearer token.",
    auth=ADMIN,
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=docs_access,
)


@api.exception_handler(NotFound)
def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=404)


@api.exception_handler(Conflict)
def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc), "field": exc.field}, status=409)


@api.exception_handler(FieldErrors)
def field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"} for field, message in exc.errors.items()]},
        status=422,
    )


@api.exception_handler(InvalidCursor)
def invalid_cursor(request: HttpRequest, exc: InvalidCursor) -> HttpResponse:
    return api.create_response(request, {"detail": [{"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}]}, status=422)


@api.exception_handler(RequestDataTooBig)
def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


@api.exception_handler(Refused)
def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    return api.create_response(request, {"code": exc.code, "detail": str(exc)}, status=422)


from bulk.api import router as bulk_router  # noqa: E402
from contacts.api import router as contacts_router  # noqa: E402  (routers import the api's auth)
from messaging.api import router as messages_router  # noqa: E402
from messaging.inbox.api import router as inbox_router  # noqa: E402

api.add_router("/contacts", contacts_router)
api.add_router("/messages", messages_router)
api.add_router("/bulk", bulk_router)
api.add_router("/inbox", inbox_router)

__all__ = ["api", "VIEWER"]
