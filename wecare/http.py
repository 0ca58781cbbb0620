"""The request types views and API operations receive: Django's HttpRequest plus what the
middleware or django-ninja attaches to it, so that type checks see ``request.htmx`` and
``request.auth``. Annotations only: at run time every request is a plain HttpRequest.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A page's request: django_htmx's middleware sets ``htmx`` on every one (falsy without htmx)."""

    htmx: HtmxDetails


class AuthedRequest(HttpRequest):
    """An API operation's request: django-ninja sets ``auth`` to what the operation's authenticator
    returned (wecare.api_auth), the signed-in user who holds the role."""

    auth: User
