"""Login throttling hooks for django-axes (settings: the ``login throttling`` block).

Axes counts failed password logins per client IP and per username; these two functions tell it
who the client is and what a locked-out person sees.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str | None:
    """The address that sent the request. Deployed environments sit behind one Application Load
    Balancer, which appends the address it saw to X-Forwarded-For: the last entry is the one
    nobody but the ALB wrote (earlier ones are the client's to forge). Locally there is no proxy."""
    if settings.IS_PRODUCTION_LIKE:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if _is_ip(last):  # anything else did not come from the ALB (and would not fit the column)
            return last
    return request.META.get("REMOTE_ADDR")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """The login page again, saying why the login was refused and for how long (429)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "next": request.POST.get("next", ""), "locked_out_minutes": settings.LOGIN_COOLOFF_MINUTES}
    return render(request, "registration/login.html", context, status=429)
