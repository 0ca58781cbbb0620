"""Reads of the Alerts page: alerts newest first, filtered by kind and by open/acknowledged
(docs/design/operations.md, "Alerts")."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from wecare.alerts import marker_key
from wecare.dynamo import Cursor, Page, not_expired
from wecare.models import Alert, AlertMarker

PAGE = 50
STATES = ("all", "open", "acknowledged")


def alerts_page(*, kind: str = "", state: str = "all", cursor: str | None = None, limit: int = PAGE) -> Page[Alert]:
    """One page of alerts, newest first; InvalidCursor for a cursor another list issued. One
    Query of the table's index (a single partition: alerts are few, being deduplicated)."""
    scope = f"alerts:{kind}:{state}"
    start = Cursor.decode(cursor, scope=scope)
    condition = not_expired(Alert.expiresAt)
    if kind:
        condition &= Alert.kind == kind
    if state == "open":
        condition &= Alert.acknowledgedAt.does_not_exist()
    elif state == "acknowledged":
        condition &= Alert.acknowledgedAt.exists()
    results = Alert.by_time.query(
        "alert", filter_condition=condition, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    items = list(results)
    next_cursor = Cursor.encode(results.last_evaluated_key, scope=scope) if len(items) == limit else None
    return Page(items, next_cursor)


def current(kind: str, subject: str) -> Alert | None:
    """The alert of this kind and subject's latest period (still running or not), if any."""
    try:
        marker = AlertMarker.get(marker_key(kind, subject), consistent_read=True)
        return Alert.get(marker.currentId, consistent_read=True)
    except DoesNotExist:
        return None
