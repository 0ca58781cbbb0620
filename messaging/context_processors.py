"""The inbox's unread count for the sidebar's DM entry (templates/partials/sidebar.html).

A callable, so the count is read only when a page draws the sidebar (a polled fragment never does);
one bounded read of the inbox's open conversations (messaging.inbox.listing.unread_total)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from messaging.inbox.listing import unread_total


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": unread_total}
