"""One place that refuses a request: HTTP 403, a structured log line and an AuditLogs item."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from wecare import audit

log = logging.getLogger("wecare.access")


def record_denial(request: HttpRequest, reason: str) -> None:
    user = getattr(request, "user", None)
    who = audit.actor_id(user)
    log.warning("access denied", extra={"user": who, "path": request.path, "method": request.method, "reason": reason})
    audit.record(user, "access.denied", "path", request.path, method=request.method, reason=reason)


def deny(request: HttpRequest, reason: str, *, template: str = "403.html") -> HttpResponse:
    record_denial(request, reason)
    body = render_to_string(template, {"reason": reason}, request=request)
    return HttpResponse(body, status=403)
