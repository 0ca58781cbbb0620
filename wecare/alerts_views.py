"""The Alerts page (``/alerts/``): critical errors newest first, filtered by kind and state, each
acknowledged by an operator or admin (docs/design/operations.md, "Alerts")."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from wecare import alerts_actions
from wecare.alerts import Kind
from wecare.alerts_queries import STATES, alerts_page
from wecare.dynamo import InvalidCursor
from wecare.errors import Conflict, NotFound
from wecare.middleware import can_open
from wecare.roles import Role, require_role

# What each kind is, in the page's words (a kind added without one shows its code).
LABELS: dict[str, str] = {
    Kind.DLQ_PARKED: "Task parked on a dead-letter queue",
    Kind.PROVIDER_AUTH: "Provider refused our credentials",
    Kind.TEMPLATE_UNUSABLE: "WhatsApp template unusable",
    Kind.QUALITY_RED: "WhatsApp number quality red",
    Kind.ACCOUNT_UPDATE: "WhatsApp account update",
    Kind.NUMBER_NAME: "WhatsApp number name update",
    Kind.TIER_USE: "WhatsApp messaging limit near",
    Kind.JOB_FAILED: "Bulk job failed",
}


def _filters(source) -> dict[str, str]:
    """The page's filters from a query or a form, anything unknown dropped."""
    kind = source.get("kind", "")
    state = source.get("state", "all")
    return {"kind": kind if kind in set(Kind) else "", "state": state if state in STATES else "all"}


def _list_url(filters: dict[str, str]) -> str:
    query = urlencode({k: v for k, v in filters.items() if v and v != "all"})
    return reverse("alerts:list") + (f"?{query}" if query else "")


@require_role(Role.OPERATOR)
def alert_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    try:
        page = alerts_page(kind=filters["kind"], state=filters["state"], cursor=request.GET.get("cursor"))
    except InvalidCursor:
        return redirect(_list_url(filters))
    # An alert's link leads to the page that explains it; one the reader's role cannot open (an
    # operator and the admin's DLQ page) is named instead of linked to a refusal.
    rows = [
        (alert, LABELS.get(alert.kind, alert.kind), bool(alert.link) and can_open(request.user, alert.link))
        for alert in page.items
    ]
    return render(
        request,
        "alerts/list.html",
        {
            "rows": rows,
            "page": page,
            "filters": filters,
            "kinds": [(str(kind), LABELS.get(kind, str(kind))) for kind in Kind],
            "states": STATES,
            "repeat_minutes": settings.ALERT_REPEAT_MINUTES,
            "next_query": urlencode({**filters, "cursor": page.next_cursor}) if page.next_cursor else "",
        },
    )


@require_role(Role.OPERATOR)
@require_POST
def acknowledge(request: HttpRequest, alert_id: str) -> HttpResponse:
    try:
        alert = alerts_actions.acknowledge(alert_id, user=request.user)
    except (NotFound, Conflict) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Acknowledged: {LABELS.get(alert.kind, alert.kind)}, {alert.subject}.")
    return redirect(_list_url(_filters(request.POST)))
