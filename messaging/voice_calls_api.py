"""/api/voice-calls: WhatsApp voice calls, newest first, filtered by contact, direction, status
and time, with cursor paging (docs/design/calls.md)."""

from __future__ import annotations

from datetime import UTC

from ninja import Query, Router
from pydantic import AwareDatetime

from messaging import voice_calls
from messaging.schemas import VoiceCallOut, VoiceCallPage
from wecare.api_auth import VIEWER
from wecare.errors import FieldErrors
from wecare.http import AuthedRequest

router = Router(tags=["voice calls"])

ERRORS = {401: dict, 403: dict}


@router.get(
    "",
    response={200: VoiceCallPage, 422: dict, **ERRORS},
    auth=VIEWER,
    summary="List WhatsApp voice calls, newest first",
)
def list_voice_calls(
    request: AuthedRequest,
    contactId: str | None = Query(None, max_length=64, pattern="^[0-9A-Za-z_-]+$"),
    direction: str | None = Query(None, pattern="^(inbound|outbound)$"),
    status: str | None = Query(None, pattern="^(ringing|accepted|rejected|completed|failed)$"),
    since: AwareDatetime | None = Query(None, alias="from", description="Calls started at or after this time"),
    until: AwareDatetime | None = Query(None, alias="to", description="Calls started at or before this time"),
    cursor: str | None = Query(None, max_length=2000),
    limit: int = Query(50, ge=1, le=200),
):
    try:
        since, until = (t.astimezone(UTC) if t else None for t in (since, until))
    except OverflowError:  # a time at the very edge of the calendar, whose offset moves it past
        raise FieldErrors({"from": "not a time that can be read in UTC"}) from None
    if since and until and since > until:
        raise FieldErrors({"to": "must not be before from"})
    page = voice_calls.list_calls(
        contact_id=contactId, direction=direction, status=status, since=since, until=until, cursor=cursor, limit=limit
    )
    return VoiceCallPage(items=[VoiceCallOut.of(c) for c in page.items], nextCursor=page.next_cursor)
