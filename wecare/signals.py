"""Each login writes the Users table (createdAt once, lastLoginAt every time) and the audit log."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from wecare import audit
from wecare.dynamo import now
from wecare.models import User
from wecare.roles import role_of

log = logging.getLogger("wecare.auth")


def record_login(user) -> None:
    role = role_of(user)
    at = now()
    User(
        userId=user.get_username(),
        email=user.email or None,
        role=role.label if role else None,
        createdAt=at,
    ).update(
        actions=[
            User.email.set(user.email) if user.email else User.email.remove(),
            User.role.set(role.label) if role else User.role.remove(),
            User.createdAt.set(User.createdAt | at),
            User.lastLoginAt.set(at),
        ]
    )


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs) -> None:
    record_login(user)
    log.info("login", extra={"user": user.get_username(), "role": getattr(role_of(user), "label", None)})
    audit.record(user, "auth.login", "user", user.get_username())


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Never log the password; the username helps spot brute force.
    log.warning("login failed", extra={"username": credentials.get("username"), "path": getattr(request, "path", None)})
