"""From Cognito claims to a Django user with the right role, for OIDC logins and API bearers.

Groups come from ``cognito:groups`` and are refreshed at every login: someone removed from the
Operator group in Cognito is no longer an operator here from their next login on.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from wecare.roles import GROUP_NAMES, Role


def roles_from_claims(claims: dict[str, Any]) -> list[Role]:
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = [groups]
    return [GROUP_NAMES[g] for g in groups if g in GROUP_NAMES]


def username_from_claims(claims: dict[str, Any]) -> str:
    # `sub` never changes; `cognito:username`/email can. Key the account on `sub`.
    return str(claims["sub"])


def _profile(claims: dict[str, Any]) -> dict[str, str]:
    """The profile fields the claims speak about. Access tokens carry no email or name: an API
    call with one must not blank what the person's last login recorded."""
    profile = {}
    if "email" in claims:
        profile["email"] = (claims["email"] or "").lower()
    if "given_name" in claims or "name" in claims:
        profile["first_name"] = (claims.get("given_name") or claims.get("name") or "")[:150]
    if "family_name" in claims:
        profile["last_name"] = (claims["family_name"] or "")[:150]
    return profile


@transaction.atomic
def sync_user_from_claims(claims: dict[str, Any]):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username_from_claims(claims))
    for field, value in _profile(claims).items():
        setattr(user, field, value)
    roles = roles_from_claims(claims)
    top = max(roles, default=None)
    # The Django admin needs is_staff; the Admin role is the platform's superuser.
    user.is_staff = user.is_superuser = top == Role.ADMIN
    user.set_unusable_password()
    user.save()
    user.groups.set([Group.objects.get_or_create(name=role.group_name)[0] for role in roles])
    user._wecare_role = top  # type: ignore[attr-defined]  # role_of reads this per-request cache
    return user
