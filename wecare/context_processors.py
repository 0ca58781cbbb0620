from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wecare.navigation import sidebar_items
from wecare.roles import role_of


def platform(request: HttpRequest) -> dict[str, Any]:
    role = role_of(getattr(request, "user", None))
    return {
        "app_title": "WECARE.DIGITAL",
        "environment": settings.ENVIRONMENT,
        "send_mode": settings.SEND_MODE,
        "user_role": role.label if role else None,
        "sidebar": sidebar_items(request),
        "oidc_enabled": settings.OIDC_ENABLED,
        "password_login_enabled": settings.PASSWORD_LOGIN_ENABLED,
    }
