"""The Agent page (/agent/) and /api/ai/interactions: the automation switch (admins only, on the
version shown), the persona per business number, the log of a day with its filters and cursor
pages, and the quality figures per day (used as is, edited and how much, discarded, mean rating,
latency p50/p95, tokens, estimated cost at ai/pricing.py's rate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from ulid import ULID

from ai import agent_settings, pricing
from ai.models import Status
from ai.review import queries
from ai.tests.factories import interaction
from wecare.dynamo import now

pytestmark = pytest.mark.django_db


@pytest.fixture
def day() -> str:
    """A day of this test's own (moto keeps every other test's interactions): far in the past."""
    return (now() - timedelta(days=400 + int(ULID()) % 20000)).strftime("%Y-%m-%d")


def at(day: str, minute: int) -> datetime:
    return datetime.fromisoformat(f"{day}T10:{minute:02d}:00").replace(tzinfo=UTC)


def test_the_agent_page_shows_the_switch_personas_figures_and_log(client_for, viewer, admin_user, operator):
    html = client_for(viewer).get("/agent/").content.decode()
    assert "<h1>Agent</h1>" in html and "data-automation=" in html
    assert "Turn on" not in html and "An admin turns it on or off." in html  # a viewer reads
    assert f'data-number="{settings.WHATSAPP_PHONE_NUMBER_IDS[0]}"' in html  # its persona, or "none chosen"
    assert 'id="figures"' in html and 'id="log"' in html
    # The sidebar's Agent is a link now, not "coming".
    assert 'href="/agent/"' in html


def test_an_admin_turns_automation_on_and_off_on_the_version_shown(client_for, admin_user, operator):
    start = agent_settings.current()
    assert client_for(operator).post("/agent/automation/", {"on": "1", "version": start.version}).status_code == 403
    admin = client_for(admin_user)
    response = admin.post("/agent/automation/", {"on": "1", "version": start.version}, follow=True)
    assert "Automation is on" in response.content.decode() and agent_settings.automation_on()
    # A second admin's page showed the old version: refused, nothing overwritten unseen.
    stale = admin.post("/agent/automation/", {"on": "0", "version": start.version}, follow=True)
    assert "changed since this page was shown" in stale.content.decode() and agent_settings.automation_on()
    admin.post("/agent/automation/", {"on": "0", "version": agent_settings.current().version})
    assert not agent_settings.automation_on()


def test_the_log_filters_by_status_rating_and_number_and_pages_with_a_cursor(client_for, viewer, day):
    used = interaction("whatsapp~a~1", status=Status.USED, rating="helpful", at=at(day, 1))
    edited = interaction(
        "whatsapp~a~2",
        status=Status.EDITED,
        sentText="Open 9 to 7",
        edit="--- draft\n+++ sent\n@@ -1 +1 @@\n-Open 9 to 6\n+Open 9 to 7",
        editRatio=0.1,
        rating="not_helpful",
        ratingReason="outdated",
        at=at(day, 2),
    )
    other_number = interaction(
        "whatsapp~b~3", status=Status.DISCARDED, businessNumber=settings.WHATSAPP_PHONE_NUMBER_IDS[1], at=at(day, 3)
    )
    user = client_for(viewer)
    html = user.get("/agent/", {"day": day}).content.decode()
    for item in (used, edited, other_number):
        assert f'data-interaction="{item.interactionId}"' in html
    assert html.index(other_number.interactionId) < html.index(used.interactionId)  # newest first
    assert 'class="diff-add">+Open 9 to 7' in html and "Not helpful (outdated)" in html
    assert "When are you open?" in html and "Opening hours" in html and "2400 ms" in html

    def shown(**query: str) -> list[str]:
        return [i["interactionId"] for i in user.get("/api/ai/interactions", {"day": day, **query}).json()["items"]]

    assert shown(status="edited") == [edited.interactionId]
    assert shown(rating="helpful") == [used.interactionId]
    assert shown(rating="none") == [other_number.interactionId]
    assert shown(business=settings.WHATSAPP_PHONE_NUMBER_IDS[1]) == [other_number.interactionId]
    first = user.get("/api/ai/interactions", {"day": day, "limit": 2}).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    rest = user.get("/api/ai/interactions", {"day": day, "limit": 2, "cursor": first["nextCursor"]}).json()
    assert [i["interactionId"] for i in rest["items"]] == [used.interactionId]
    # A cursor of one list is refused by another; a wrong filter value is named.
    assert (
        user.get("/api/ai/interactions", {"day": day, "status": "used", "cursor": first["nextCursor"]}).status_code
        == 422
    )
    assert user.get("/api/ai/interactions", {"status": "maybe"}).status_code == 422
    page_two = user.get("/agent/", {"day": day, "cursor": "forged"})
    assert page_two.status_code == 302  # a page starts again from the first page


def test_the_figures_per_day(client_for, viewer, day):
    for minute, (status, latency, ratio, rating) in enumerate(
        [
            (Status.USED, 1000, None, "helpful"),
            (Status.USED, 2000, None, "helpful"),
            (Status.EDITED, 3000, 0.2, "not_helpful"),
            (Status.EDITED, 4000, 0.4, None),
            (Status.DISCARDED, 9000, None, "not_helpful"),
        ]
    ):
        interaction(
            "whatsapp~f~1", status=status, latencyMs=latency, editRatio=ratio, rating=rating, at=at(day, minute)
        )
    interaction("whatsapp~f~1", status=Status.SKIPPED, latencyMs=None, usage=None, at=at(day, 10))
    [f] = queries.figures(1, until=day)
    assert (f.suggestions, f.used, f.edited, f.discarded) == (5, 2, 2, 1)
    assert f.mean_edit_ratio == pytest.approx(0.3) and f.mean_rating == pytest.approx(2 / 4)
    assert (f.latency_p50_ms, f.latency_p95_ms) == (3000, 9000)
    assert (f.input_tokens, f.output_tokens) == (6000, 400)
    assert f.estimated_cost == pricing.estimated_cost(6000, 400) == Decimal("0.00608")
    # A failed draft, and one still drafting after an attempt that failed, were billed for the
    # calls they made: counted in the tokens and the cost, not in the suggestions.
    spent = {"inputTokens": 700, "outputTokens": 30, "calls": {"Retrieve": 1, "Converse": 1}}
    interaction("whatsapp~f~2", status=Status.FAILED, latencyMs=None, usage=spent, at=at(day, 11))
    interaction("whatsapp~f~3", status=Status.GENERATING, latencyMs=None, usage=spent, at=at(day, 12))
    [f] = queries.figures(1, until=day)
    assert (f.suggestions, f.failed, f.latency_p95_ms) == (5, 1, 9000)
    assert (f.input_tokens, f.output_tokens) == (7400, 460)
    assert f.estimated_cost == pricing.estimated_cost(7400, 460)

    api = client_for(viewer).get("/api/ai/interactions/figures", {"days": 3}).json()
    assert len(api["days"]) == 3 and api["days"][0]["day"] == now().strftime("%Y-%m-%d")
    assert "Bedrock pricing" in api["priceSource"]
    assert client_for(viewer).get("/api/ai/interactions/figures", {"days": 99}).status_code == 422


def test_percentile_is_nearest_rank():
    assert queries.percentile([], 50) is None
    assert queries.percentile([5], 95) == 5
    assert queries.percentile([float(v) for v in range(1, 101)], 95) == 95


def test_a_malformed_record_is_shown_without_its_bad_parts_never_a_server_error(client_for, viewer, day):
    # JSON attributes of the wrong shape (a record from a bug, or written by hand) leave the log and
    # the conversation's suggestions answering: the bad parts are dropped, the rest shown.
    bad = interaction(
        "whatsapp~a~bad",
        template=["welcome_message"],
        sources="passages",
        flags=[1, {"code": "url"}],
        usage=[490, 90],
        at=at(day, 3),
    )
    user = client_for(viewer)
    log = user.get("/api/ai/interactions", {"day": day})
    assert log.status_code == 200
    [shown] = log.json()["items"]
    assert shown["interactionId"] == bad.interactionId
    assert (shown["template"], shown["sources"], shown["flags"], shown["usage"]) == (None, [], [{"code": "url"}], None)
    listed = user.get("/api/ai/suggestions", {"conversation": "whatsapp~a~bad"})
    assert listed.status_code == 200 and listed.json()["items"][0]["template"] is None
