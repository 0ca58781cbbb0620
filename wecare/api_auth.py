"""Who may call an API operation: the browser session (with CSRF) or a Cognito JWT bearer token,
and at least the operation's role.

Use ``auth=VIEWER`` / ``OPERATOR`` / ``ADMIN`` on every operation. The NinjaAPI's default is
ADMIN, so an operation that forgets to say is closed to all but admins rather than open.
No credentials → 401; valid credentials without the role → 403, logged and audited.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth

from wecare.bearer import user_for_request
from wecare.denials import deny, record_denial
from wecare.roles import Role, role_of


def _check_role(request: HttpRequest, user: Any, needed: Role) -> Any:
    role = role_of(user)
    if role is None or role < needed:
        request.user = user
        record_denial(request, f"needs {needed.label}, has {role.label if role else 'no role'}")
        raise AuthorizationError(message=f"Your role does not allow this: it needs {needed.label}.")
    return user


class SessionRole(SessionAuth):
    def __init__(self, role: Role):
        super().__init__(csrf=True)
        self.role = role

    def __call__(self, request: HttpRequest) -> Any:
        # CSRF protects a logged-in session; with none there is nothing to forge. Checking anyway
        # would refuse every bearer-token POST ("CSRF check Failed") before BearerRole is tried.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return _check_role(request, user, self.role) if user is not None else None


class BearerRole(HttpBearer):
    def __init__(self, role: Role):
        super().__init__()
        self.role = role

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_request(request, token)
        return _check_role(request, user, self.role) if user is not None else None


def docs_access(view):
    """The API docs and schema are for people with a role (deny by default, like every page)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if role_of(request.user) is None:
            return deny(request, "no role", template="no_role.html")
        return view(request, *args, **kwargs)

    return wrapper


def role_auth(role: Role) -> list:
    return [SessionRole(role), BearerRole(role)]


VIEWER = role_auth(Role.VIEWER)
OPERATOR = role_auth(Role.OPERATOR)
ADMIN = role_auth(Role.ADMIN)
