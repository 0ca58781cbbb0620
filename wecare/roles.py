"""Roles and the access rule every view declares.

Three roles, each including the one before: Viewer reads, Operator also writes contacts and
sends, Admin also manages users and configuration. A role is a Django group, so the Cognito
groups of the same names map onto it at each login (``wecare/identity.py``).

Deny by default: a page view must carry ``@require_role(...)`` or ``@public``; the access
middleware refuses (403) any view that declares neither, whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from functools import wraps
from typing import Any


class Role(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def group_name(self) -> str:
        return self.name.capitalize()

    @property
    def label(self) -> str:
        return self.name.lower()


GROUP_NAMES = {role.group_name: role for role in Role}


def role_of(user: Any) -> Role | None:
    """The highest role the user holds, or None (logged in but in no role group)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    if hasattr(user, "_wecare_role"):  # worked out earlier for this user object (None included)
        cached: Role | None = user._wecare_role
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = max((GROUP_NAMES[n] for n in names if n in GROUP_NAMES), default=None)
    user._wecare_role = role
    return role


def has_role(user: Any, needed: Role) -> bool:
    role = role_of(user)
    return role is not None and role >= needed


ACCESS_ATTR = "wecare_access"
PUBLIC = "public"


def require_role(role: Role) -> Callable:
    """Mark a function view as needing at least ``role``; the access middleware enforces it."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, role)
        return wrapper

    return decorate


def public(view: Callable) -> Callable:
    """Mark a view as open to anyone (login pages, health check, the SNS webhook)."""
    setattr(view, ACCESS_ATTR, PUBLIC)
    return view
