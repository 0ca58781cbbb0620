"""The Agent page at /agent/: the automation switch (an admin turns it on or off), the persona each
business number answers with (read here; chosen on the personas page), the quality figures per
day and the interaction log with its filters. docs/design/agent.md, "The Agent page".
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ai import agent_settings, pricing, sources, status_words
from ai.models import Status
from ai.personas import queries as persona_queries
from ai.review import queries
from messaging import business_numbers
from wecare.dynamo import InvalidCursor
from wecare.errors import Conflict
from wecare.roles import Role, has_role, require_role

FIGURE_DAYS = 7


def _personas() -> list[dict[str, Any]]:
    """Each WhatsApp business number and the persona its drafts use: the one an admin chose, else
    the default persona, as the pipeline finds it (``personas.queries.active_for_number``)."""
    rows = []
    for number in business_numbers.allowlisted():
        if number.channel != "whatsapp":
            continue
        chosen = agent_settings.persona_for(number.sender)
        try:
            persona = persona_queries.active_for_number(number.sender)
        except NotImplementedError:  # the skeleton's placeholder, until the personas part is merged
            persona = None
        is_default = persona is not None and persona.personaId != chosen
        rows.append({"number": number, "persona_id": chosen, "persona": persona, "is_default": is_default})
    return rows


@require_role(Role.VIEWER)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    filters = queries.LogFilters.from_query(request.GET)
    try:
        page = queries.log_page(filters, request.GET.get("cursor") or None)
    except InvalidCursor:
        return redirect(f"{request.path}?{filters.query()}")
    context = {
        "settings_item": agent_settings.current(),
        "is_admin": has_role(request.user, Role.ADMIN),
        "personas": _personas(),
        "figures": queries.figures(FIGURE_DAYS),
        "filters": filters,
        "page": page,
        "rows": [
            (
                item,
                pricing.cost_of_usage(item.usage),
                status_words.reason_words(item.statusReason),
                sources.shown(item.sources),
            )
            for item in page.items
        ],
        "paged": bool(request.GET.get("cursor")),
        "statuses": [s.value for s in Status],
        "numbers": [n for n in business_numbers.allowlisted() if n.channel == "whatsapp"],
        "price_source": pricing.PRICE_SOURCE,
    }
    return render(request, "ai/review/home.html", context)


@require_role(Role.ADMIN)
@require_POST
def automation(request: HttpRequest) -> HttpResponse:
    """Turn automation on or off, on the version of the settings the page showed."""
    on = request.POST.get("on") == "1"
    try:
        version = int(request.POST.get("version") or "0")
        agent_settings.set_automation(on, user=request.user, expected_version=version)
    except ValueError:
        messages.error(request, "The form was incomplete; reload the page and try again.")
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Automation is on: customers' WhatsApp messages get suggested replies."
            if on
            else "Automation is off: no new suggestions are drafted.",
        )
    return redirect("ai:home")
