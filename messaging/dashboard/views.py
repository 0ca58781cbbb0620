"""The dashboard page (operators and admins): one read of each source, drawn as tables and charts.
What it shows and why: docs/design/operations.md ("Dashboard")."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from messaging import counters
from messaging.channels import CHANNEL_NAMES
from messaging.dashboard import figures, sections
from wecare.dynamo import now
from wecare.roles import Role, require_role


@require_role(Role.OPERATOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    # An unknown channel shows every channel, as no filter does: a page, not a form to correct.
    channel = request.GET.get("channel")
    if channel not in counters.CHANNELS:
        channel = None
    at = now()
    return render(
        request,
        "messaging/dashboard.html",
        {
            "at": at,
            "channel": channel,
            "channels": [(c, CHANNEL_NAMES[c]) for c in counters.CHANNELS],
            "sections": [*figures.sections(channel, at=at), *sections.registered()],
        },
    )
