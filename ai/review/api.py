"""/api/ai/interactions: the interaction log of a day with its filters (cursor pages), and the
quality figures per day. docs/design/agent.md, "The Agent page"."""

from __future__ import annotations

from ninja import Query, Router

from ai import pricing
from ai.review import queries
from ai.review.schemas import DayFiguresOut, FiguresOut, InteractionOut, InteractionPage
from wecare.api_auth import VIEWER
from wecare.errors import FieldErrors
from wecare.http import AuthedRequest

router = Router(tags=["agent"])

ERRORS = {401: dict, 403: dict, 422: dict}


@router.get("", response={200: InteractionPage, **ERRORS}, auth=VIEWER, summary="The interaction log")
def log(
    request: AuthedRequest,
    day: str | None = Query(None, description="YYYY-MM-DD (UTC); today when left out"),
    status: str | None = None,
    rating: str | None = Query(None, description="helpful, not_helpful, or none (not rated)"),
    business: str | None = Query(None, description="the business number's phone number id"),
    cursor: str | None = None,
    limit: int = Query(queries.PAGE_SIZE, ge=1, le=100),
):
    given = {"day": day, "status": status, "rating": rating, "business": business}
    filters = queries.LogFilters.from_query({k: v for k, v in given.items() if v})
    # A page may drop a wrong value quietly; the API says which one it refuses.
    wrong = {k: "is not one of the values this filter takes" for k, v in given.items() if v and not getattr(filters, k)}
    if day and filters.day != day:
        wrong["day"] = "must be a date, YYYY-MM-DD"
    if wrong:
        raise FieldErrors(wrong)
    page = queries.log_page(filters, cursor, limit)
    return {"items": [InteractionOut.of(i) for i in page.items], "nextCursor": page.next_cursor}


@router.get("/figures", response={200: FiguresOut, **ERRORS}, auth=VIEWER, summary="Quality figures per day")
def figures(request: AuthedRequest, days: int = Query(7, ge=1, le=queries.MAX_FIGURE_DAYS)):
    return {"days": [DayFiguresOut.of(f) for f in queries.figures(days)], "priceSource": pricing.PRICE_SOURCE}
