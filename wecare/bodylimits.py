"""How large a request body the API reads, and the 413 that says so.

Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) by raising RequestDataTooBig
when it is first read; ``wecare/api.py`` answers that 413 here, naming the limit. The bulk
operations carry an audience CSV of up to 5 MiB inside JSON, where escaping can make it up to six
times larger, so they take ``allow_body_up_to(BULK_BODY_LIMIT)`` instead. A file upload, whose
files Django spools to disk whatever their size, takes ``refuse_body_over`` with its own cap.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from wecare.bearer import bearer_token, user_for_request

MIB = 1024 * 1024
# A 5 MiB CSV (bulk.audience.MAX_CSV_BYTES) costs at most six bytes per byte in JSON (a control
# character is written \u0001), plus the rest of the request (message text, HTML, options).
BULK_BODY_LIMIT = 6 * 5 * MIB + 2 * MIB


def too_large(limit: int) -> HttpResponse:
    return JsonResponse(
        {"detail": f"request body over the limit of {limit} bytes ({limit / MIB:g} MiB) for this operation"}, status=413
    )


def declared_length(request: HttpRequest) -> int:
    """The body size the client declared (Content-Length); 0 when absent or not a number, in which
    case whoever reads the body measures what actually arrives."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _is_someone(request: HttpRequest) -> bool:
    """A logged-in session or a bearer token that verifies: only then is a large body worth
    reading before the operation's own authentication runs. Any other Authorization header is
    no one; the token's verification is kept on the request for the operation's auth to reuse."""
    if request.user.is_authenticated:
        return True
    token = bearer_token(request)
    return token is not None and user_for_request(request, token) is not None


def refuse_body_over(limit: int) -> Callable:
    """For ``ninja.decorators.decorate_view`` on a file upload: a 413 naming ``limit`` for a body
    declared larger, before a byte of it is read. Django's DATA_UPLOAD_MAX_MEMORY_SIZE counts only
    a multipart body's fields, not its files, which it spools to disk; this is their overall cap.
    A body cannot run past its declared length: Django reads no more than CONTENT_LENGTH."""

    def decorator(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(run)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if declared_length(request) > limit:
                return too_large(limit)
            return run(request, *args, **kwargs)

        return wrapper

    return decorator


def allow_body_up_to(limit: int) -> Callable:
    """For ``ninja.decorators.decorate_view``: this operation reads a body of up to ``limit``
    bytes instead of Django's DATA_UPLOAD_MAX_MEMORY_SIZE, and answers 413 above it."""

    def decorator(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @refuse_body_over(limit)  # a body declared larger is refused before anything else
        @wraps(run)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _is_someone(request):
                return run(request, *args, **kwargs)  # its auth refuses before the body is read
            if not hasattr(request, "_body"):
                # Read it here, bounded by this operation's limit, and leave it where
                # HttpRequest.body keeps what it read, so the body is never measured against
                # Django's smaller global limit.
                body = request.read(limit + 1)
                if len(body) > limit:
                    return too_large(limit)
                request._body = body
                request._stream = io.BytesIO(body)
            return run(request, *args, **kwargs)

        return wrapper

    return decorator
