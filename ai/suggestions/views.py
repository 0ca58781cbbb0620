"""The suggested reply in the inbox: the panel above the composer (messaging/inbox/panels.py,
slot COMPOSER) and what an operator does from it. Each action answers with the panel drawn again,
a refusal or a conflict included (422 / 409, said in the panel, never an error page).
docs/design/agent.md, "Suggestions in the inbox".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from ai import sources, status_words
from ai.models import AIInteraction, Status
from ai.suggestions import actions, queries
from messaging.outbound import send, template_catalog
from wecare.errors import DomainError
from wecare.roles import Role, has_role, require_role

PANEL = "ai/suggestions/_panel.html"
HIDDEN = {Status.SKIPPED.value}  # the pipeline chose not to draft: nothing to show


def _panel(request: HttpRequest, key: str, interaction: AIInteraction | None, status: int = 200, **extra: Any):
    if interaction is None or interaction.status in HIDDEN:
        return HttpResponse("")  # an empty answer draws nothing (messaging/inbox/panels.py)
    content = actions.sendable(interaction)
    template = (content or {}).get("template")
    context = {
        "conv_key": key,
        "s": interaction,
        "origin": queries.origin_of(interaction),
        "reason": status_words.reason_words(interaction.statusReason),
        "sources": sources.shown(interaction.sources),
        "sendable": content is not None,
        "outcome_unknown": actions.outcome_unknown(interaction),
        "rendered_template": template_catalog.render_sent(template) if template else None,
        "can_act": has_role(request.user, Role.OPERATOR),
        "reasons": actions.REASONS,
        "max_note": actions.MAX_RATING_NOTE,
        **extra,
    }
    return render(request, PANEL, context, status=status)


@require_role(Role.VIEWER)
@require_GET
def panel(request: HttpRequest, key: str) -> HttpResponse:
    """The conversation's newest suggestion; viewers see it without the buttons. The panel's own
    poll while a draft is written (``?seen=generating``) is answered 204 until there is news, so
    the panel (a live region) is not redrawn and read out again every 2 seconds."""
    interaction = queries.newest(key)
    still = interaction is not None and interaction.status == Status.GENERATING.value
    if still and request.GET.get("seen") == Status.GENERATING.value:
        return HttpResponse(status=204)
    return _panel(request, key, interaction)


def _act(request: HttpRequest, key: str, interaction_id: str, do: Callable[[], Any]) -> HttpResponse:
    """Run ``do`` on one of this conversation's suggestions and draw the panel again."""
    try:
        interaction = queries.get(interaction_id)
    except DomainError as exc:
        return HttpResponse(str(exc), status=exc.status)
    if interaction.conversation != key:
        return HttpResponse("that suggestion is not this conversation's", status=404)
    extra: dict[str, Any] = {}
    status = 200
    try:
        do()
    except send.Refused as exc:
        status, extra = 422, {"refusal": exc}
    except DomainError as exc:
        status, extra = exc.status, {"problem": exc}
    interaction.refresh(consistent_read=True)
    return _panel(request, key, interaction, status=status, **extra)


@require_role(Role.OPERATOR)
@require_POST
def send_view(request: HttpRequest, key: str, interaction_id: str) -> HttpResponse:
    response = _act(request, key, interaction_id, lambda: actions.send_as_drafted(interaction_id, user=request.user))
    if response.status_code == 200:
        response["HX-Trigger"] = "message-sent"  # the thread draws the new message (inbox/_latest.html)
    return response


@require_role(Role.OPERATOR)
@require_POST
def discard_view(request: HttpRequest, key: str, interaction_id: str) -> HttpResponse:
    return _act(request, key, interaction_id, lambda: actions.discard(interaction_id, user=request.user))


@require_role(Role.OPERATOR)
@require_POST
def rate_view(request: HttpRequest, key: str, interaction_id: str) -> HttpResponse:
    rating = request.POST.get("rating", "")
    # The reason and note belong to "not helpful" (the form shows them under it); a "Helpful"
    # click in the same form must not carry a reason picked and then left.
    reason = request.POST.get("reason") if rating == "not_helpful" else None
    note = request.POST.get("note") if rating == "not_helpful" else None
    return _act(
        request,
        key,
        interaction_id,
        lambda: actions.rate(interaction_id, rating=rating, reason=reason, note=note, user=request.user),
    )


@require_role(Role.OPERATOR)
@require_POST
def use_view(request: HttpRequest, key: str, interaction_id: str) -> HttpResponse:
    """Use: the browser has put the draft in the composer (static/js/ai-suggestions.js); this
    records it. The panel is not drawn again, so the composer's text stays where it was put."""
    response = _act(request, key, interaction_id, lambda: actions.note_use(interaction_id, user=request.user))
    return HttpResponse(status=204) if response.status_code == 200 else response
