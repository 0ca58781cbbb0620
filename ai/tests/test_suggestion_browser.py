"""A suggested reply in Chromium, the way an operator meets it: the panel above the composer,
Use puts the draft in the message box, the operator edits and sends it there, then rates the
draft; the Agent page's log shows the edit. Screenshots of the inbox with a suggestion and of the
Agent page at 1280 and 320 px go to test-artifacts/. The logic under it is tested without a
browser in test_suggestions.py and test_review.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from ai.models import AIInteraction, Status
from ai.tests.factories import DRAFT, interaction, whatsapp_conversation
from messaging.models import Message
from messaging.tests import inbox_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
COMPOSER = "form[data-composer] textarea[name=text]:not([form])"


def shots(page, name: str, *, show: str | None = None) -> None:
    """At 1280 and 320 px. ``show``: on a phone, the screen with this element at its top (the
    inbox's composer is sticky at the bottom of the screen, so a whole-page capture would draw it
    over the middle of the page)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 800})
        if show and width < 700:
            page.locator(show).evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"))
        else:
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_use_edit_send_and_rate_a_suggestion(login_page, live_server, operator, new_phone):
    phone = new_phone()
    contact, key = whatsapp_conversation(operator, phone)
    conv = inbox_data.conversation(phone)
    inbox_data.inbound(conv, "When are you open on Saturday?")
    flag = {"code": "unsourced_amount", "detail": "The amount ₹499 appears in no source."}
    item = interaction(key, contact_id=contact.contactId, flags=[flag], query="When are you open on Saturday?")

    page = login_page(operator)
    page.goto(f"{live_server.url}/dm/{key}/")
    panel = page.locator("[data-ai-suggestion]")
    expect(panel.locator("[data-draft]")).to_contain_text("Our store opens at 9 am")
    expect(panel.locator("[data-flagged]")).to_contain_text("appears in no source")
    panel.locator(".ai-sources summary").click()
    expect(panel.locator(".ai-sources a").first).to_have_attribute("href", "https://example.com/kb/hours.md")
    shots(page, "ai-suggestion-inbox", show="[data-ai-suggestion]")

    # Use: the draft goes into the composer, editable; the operator changes it and sends it there.
    panel.locator("[data-ai-use]").click()
    expect(page.locator(COMPOSER)).to_have_value(DRAFT)
    edited = DRAFT.replace("6 pm", "7 pm")
    page.fill(COMPOSER, edited)
    page.click("form[data-composer] button[data-action=send]")
    expect(page.locator("#latest")).to_contain_text("closes at 7 pm")
    expect(panel.locator("[data-done]")).to_contain_text("Sent after editing")

    # The rating, with its reason and note.
    panel.locator(".ai-rate summary").click()
    panel.locator("select[name=reason]").select_option("tone")
    panel.locator("input[name=note]").fill("Too formal for a regular")
    panel.locator("button[value=not_helpful]").click()
    expect(panel.locator("[data-rated]")).to_contain_text("not helpful (tone)")

    done = AIInteraction.get(item.interactionId, consistent_read=True)
    [message] = list(Message.by_contact.query(contact.contactId))
    assert done.status == Status.EDITED and done.sentText == edited and done.sentMessageId == message.messageId
    assert (done.rating, done.ratingReason, done.ratingNote) == ("not_helpful", "tone", "Too formal for a regular")

    # The Agent page's log has it, with the edit as a diff (filtered: other tests' are there too).
    page.goto(f"{live_server.url}/agent/?status=edited")
    entry = page.locator(f"[data-interaction='{item.interactionId}']")
    expect(entry.locator("[data-edit] .diff-add")).to_contain_text("7 pm")
    expect(entry.locator("[data-outcome]")).to_contain_text("Sent edited")
    shots(page, "ai-agent-page")
