"""What a person does with an alert: acknowledge it (audited), so the Alerts page shows who is on
it (docs/design/operations.md, "Alerts")."""

from __future__ import annotations

import re
from typing import Any

from wecare import audit
from wecare.dynamo import now, update_if
from wecare.errors import Conflict, NotFound
from wecare.models import Alert

# An alert's id is a ULID; anything else (a dedup marker's key among them) is no alert.
ALERT_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def acknowledge(alert_id: str, *, user: Any) -> Alert:
    """Mark the alert acknowledged by ``user``: NotFound, or Conflict when someone already did."""
    if not ALERT_ID.fullmatch(alert_id):
        raise NotFound("No such alert.")
    alert = Alert(alert_id)
    who = audit.actor_id(user)
    if not update_if(
        alert,
        actions=[Alert.acknowledgedAt.set(now()), Alert.acknowledgedBy.set(who)],
        condition=Alert.kind.exists() & Alert.acknowledgedAt.does_not_exist(),
    ):
        try:
            current = Alert.get(alert_id, consistent_read=True)
        except Alert.DoesNotExist:
            raise NotFound("No such alert.") from None
        raise Conflict(f"{current.acknowledgedBy} acknowledged this alert already.", field="alert")
    audit.record(user, "alert.acknowledge", "alert", alert_id, kind=alert.kind, subject=alert.subject)
    return alert
