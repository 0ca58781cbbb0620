"""The audit trail: every change a person makes, and every denial, writes one AuditLogs item."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from ulid import ULID

from wecare.dynamo import now
from wecare.models import AuditLog

AUDIT_RETENTION = timedelta(days=180)

log = logging.getLogger("wecare.audit")


def actor_id(user: Any) -> str:
    """The id we record for a person: their username, or 'anonymous' / 'system'."""
    if user is None:
        return "system"
    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    return user.get_username()


def record(user: Any, action: str, resource_type: str, resource_id: str | None = None, **details: Any) -> AuditLog:
    at = now()
    entry = AuditLog(
        logId=str(ULID()),
        day=at.strftime("%Y-%m-%d"),
        userId=actor_id(user),
        action=action,
        resourceType=resource_type,
        resourceId=resource_id,
        timestamp=at,
        details=details or None,
        expiresAt=AUDIT_RETENTION,
    )
    entry.save()
    log.info(
        "audit",
        extra={
            "audit_action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "user": entry.userId,
        },
    )
    return entry
