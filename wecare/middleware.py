"""Request ids, the deny-by-default access rule for pages, browser security headers and the
session idle timeout."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers

from wecare.denials import deny
from wecare.logs import request_id_var
from wecare.roles import ACCESS_ATTR, PUBLIC, Role, role_of

log = logging.getLogger("wecare.access")

# Path prefixes whose views manage access themselves, and how.
ADMIN_PREFIX = "/admin/"
API_PREFIX = "/api/"  # django-ninja: every operation carries a role auth (wecare/api_auth.py)
OPEN_PREFIXES = ("/oidc/", "/static/")


class HealthCheckMiddleware:
    """Answer the load balancer's health check before anything reads the Host header.

    An ALB target-group check arrives with the task's IP as Host and over plain HTTP; Django's
    ALLOWED_HOSTS and HTTPS redirect would answer 400/301 and mark a healthy task unhealthy. The
    answer carries nothing private, so it is safe to give to any host.
    """

    PATH = "/healthz"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.PATH and request.method in ("GET", "HEAD"):
            return JsonResponse({"status": "ok", "environment": settings.ENVIRONMENT, "sendMode": settings.SEND_MODE})
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id (or keep the load balancer's) for logs and the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum() else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-Id"] = request_id
        return response


class AccessControlMiddleware:
    """Enforce each page view's declared role; refuse views that declare none.

    Anonymous visitors are sent to the login page (that is authentication, not a denial);
    a logged-in person without the role gets a 403 page, a log line and an audit entry.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        path = request.path_info
        if path.startswith(API_PREFIX) or path.startswith(OPEN_PREFIXES):
            return None
        needed = needed_role(path, view_func)
        if needed == PUBLIC:
            return None
        if not isinstance(needed, Role):
            # A view nobody declared a rule for: refuse it to everyone, and say so loudly.
            log.error(
                "view has no access rule", extra={"path": path, "view": getattr(view_func, "__name__", repr(view_func))}
            )
            return deny(request, "view has no access rule")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        role = role_of(request.user)
        if role is None:
            return deny(request, "no role", template="no_role.html")
        if role < needed:
            return deny(request, f"needs {needed.label}, has {role.label}")
        return None


def needed_role(path: str, view_func: Callable) -> Role | str | None:
    """The role a page's view needs (PUBLIC, or None when nobody declared one); pages under
    /admin/ need an admin unless their view says otherwise."""
    needed = getattr(view_func, ACCESS_ATTR, None)
    if path.startswith(ADMIN_PREFIX):
        needed = needed or Role.ADMIN
    return needed


def can_open(user: Any, link: str) -> bool:
    """Whether ``user`` may open a page of this site by the rule ``process_view`` applies, so a page
    can leave out a link its reader would only be refused (an alert's link to an admin's page)."""
    path = urlsplit(link).path
    try:
        match = resolve(path)
    except Resolver404:
        return False
    needed = needed_role(path, match.func)
    if needed == PUBLIC:
        return True
    role = role_of(user)
    return isinstance(needed, Role) and role is not None and role >= needed


class BrowserSecurityMiddleware:
    """Send the Content-Security-Policy with every response, and forbid caching anything the app
    renders: logged-in pages, API answers and CSV downloads hold customers' data, which must not
    stay in a shared or back-button cache. Static files (served before this) stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        add_never_cache_headers(response)
        return response


BACKGROUND_HEADER = "X-Background-Request"  # sent by what a page does by itself: polls, the read mark
LAST_ACTIVITY_KEY = "wecare_last_activity"
SESSION_START_KEY = "wecare_session_start"
# Storing the time of every request would write the session on every click; a minute's
# precision is plenty for a timeout counted in tens of minutes.
ACTIVITY_RESOLUTION_SECONDS = 60


class IdleTimeoutMiddleware:
    """Log out a session nobody has used for SESSION_IDLE_TIMEOUT_SECONDS, and any session
    SESSION_COOKIE_AGE after it began, however busy: Django's cookie age alone slides forward
    each time the session is saved, which the activity stamp below does every minute of use.

    A page left open keeps polling (and marks read what a poll draws); those requests say so with
    X-Background-Request and never count as use, so an unattended inbox does not keep a session alive.
    After the timeout, an htmx request is told to send the whole page to the login page; any other
    goes on as anonymous (pages redirect to login, the API answers 401)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if isinstance(last, int) and now - last > settings.SESSION_IDLE_TIMEOUT_SECONDS:
                return self._expired(request, "idle")
            started = request.session.setdefault(SESSION_START_KEY, now)
            if not isinstance(started, int) or now - started > settings.SESSION_COOKIE_AGE:
                return self._expired(request, "max-age")
            background = request.headers.get(BACKGROUND_HEADER) == "true"
            if not isinstance(last, int) or (not background and now - last >= ACTIVITY_RESOLUTION_SECONDS):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    def _expired(self, request: HttpRequest, why: str) -> HttpResponse:
        log.info("session timeout", extra={"user": request.user.get_username(), "path": request.path_info, "why": why})
        logout(request)
        if request.headers.get("HX-Request") == "true":
            # A fragment swapped in would be the login page inside the inbox: move the whole page.
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            page = f"{current.path}?{current.query}" if current.query else current.path or "/"
            response = HttpResponse("Your session has ended; log in again.", status=401)
            response["HX-Redirect"] = redirect_to_login(page, settings.LOGIN_URL).url
            return response
        return self.get_response(request)
