"""``/u/<token>``: the one-click unsubscribe link of a bulk email (RFC 8058), open to anyone.

Public and CSRF-exempt, because a mail provider's one-click POST carries no login and no cookie: the
signed token is the authority, and all it can do is turn one contact's one channel off. A GET only
shows the page and its button, never changes anything (link scanners open every link).
docs/design/email-feedback.md says why.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from contacts import unsubscribe
from wecare.bodylimits import declared_length
from wecare.errors import Conflict
from wecare.roles import public

# A one-click POST is the 26 bytes "List-Unsubscribe=One-Click"; a browser's form adds little.
MAX_BODY_BYTES = 4 * 1024
TEMPLATE = "contacts/unsubscribe.html"


def _page(request: HttpRequest, state: str, *, status: int = 200, **context: object) -> HttpResponse:
    return render(request, TEMPLATE, {"state": state, **context}, status=status)


@csrf_exempt
@public
@require_http_methods(["GET", "POST"])
def unsubscribe_link(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST" and (declared_length(request) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES):
        return _page(request, "too_large", status=413)
    try:
        link = unsubscribe.read(token)
    except unsubscribe.LinkExpired:
        return _page(request, "expired", status=410)
    except unsubscribe.LinkInvalid:
        return _page(request, "invalid", status=400)
    if request.method == "GET":
        return _page(request, "ask" if unsubscribe.opted_in(link) else "already", channel=link.channel)
    field, value = unsubscribe.ONE_CLICK
    if request.POST.get(field) != value:
        return _page(request, "malformed", status=400)
    try:
        unsubscribe.unsubscribe(link, user_agent=request.headers.get("User-Agent"))
    except Conflict:
        return _page(request, "conflict", status=409)
    return _page(request, "done", channel=link.channel)
