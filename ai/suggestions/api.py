"""/api/ai/suggestions: a conversation's suggestions, and acting on one: send it as drafted,
discard it, rate it, record that it went into the composer (use). Acting needs the operator role;
a send goes through the one send path, so the gate's refusal is a 422 with its code.
docs/design/agent.md, "Suggestions in the inbox"."""

from __future__ import annotations

from ninja import Query, Router

from ai.suggestions import actions, queries
from ai.suggestions.schemas import RateIn, SuggestionList, SuggestionOut
from wecare.api_auth import OPERATOR, VIEWER
from wecare.http import AuthedRequest

router = Router(tags=["agent"])

ERRORS = {401: dict, 403: dict, 404: dict, 409: dict, 422: dict}


@router.get("", response={200: SuggestionList, **ERRORS}, auth=VIEWER, summary="A conversation's suggestions")
def list_suggestions(request: AuthedRequest, conversation: str = Query(..., min_length=1, max_length=300)):
    """Newest first; ``conversation`` is the inbox key (``whatsapp~<suffix>~<customer>``)."""
    return {"items": [SuggestionOut.of(i) for i in queries.for_conversation(conversation)]}


@router.post(
    "/{interaction_id}/send", response={200: SuggestionOut, **ERRORS}, auth=OPERATOR, summary="Send as drafted"
)
def send(request: AuthedRequest, interaction_id: str):
    return SuggestionOut.of(actions.send_as_drafted(interaction_id, user=request.auth))


@router.post("/{interaction_id}/discard", response={200: SuggestionOut, **ERRORS}, auth=OPERATOR, summary="Discard")
def discard(request: AuthedRequest, interaction_id: str):
    return SuggestionOut.of(actions.discard(interaction_id, user=request.auth))


@router.post("/{interaction_id}/rate", response={200: SuggestionOut, **ERRORS}, auth=OPERATOR, summary="Rate")
def rate(request: AuthedRequest, interaction_id: str, payload: RateIn):
    return SuggestionOut.of(
        actions.rate(interaction_id, rating=payload.rating, reason=payload.reason, note=payload.note, user=request.auth)
    )


@router.post(
    "/{interaction_id}/use", response={200: SuggestionOut, **ERRORS}, auth=OPERATOR, summary="Record a Use (audited)"
)
def use(request: AuthedRequest, interaction_id: str):
    """The draft went into a composer; it stays pending until that composer's send."""
    return SuggestionOut.of(actions.note_use(interaction_id, user=request.auth))
