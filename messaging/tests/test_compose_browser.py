"""Compose in the browser: a composer that prevents refusals (closed channels disabled with their
reason and fix, consent recorded right there, templates only outside the window, Send off while a
refusal is certain), a field per template variable with its live preview, and the message's
status moving in the history without a reload. Screenshots at 1280 and 320 px go to
test-artifacts/."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from contacts import actions
from contacts.models import Contact
from messaging.outbound import template_catalog
from wecare.dynamo import now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def record_consent(page, channel: str) -> None:
    closed = page.locator(f"#compose [data-channel-closed={channel}]")
    closed.locator("summary").click()
    closed.locator("input[name=confirmed]").check()
    closed.locator("input[name=note]").fill("She agreed on the phone today")
    closed.locator("button[type=submit]").click()
    expect(page.locator(f"#compose [data-consented={channel}]")).to_be_visible()


def test_the_composer_offers_only_what_the_gate_allows_and_previews_the_template_as_typed(
    login_page, live_server, operator, new_phone, fake_aws_clean
):
    template_catalog.sync_templates()  # the fake's seed: welcome_message has a header, 2 body values, a footer
    contact = actions.create_contact({"name": "Asha Rao", "phone": new_phone()}, user=operator, source="test")
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(hours=30))])
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    compose = page.locator("#compose")

    # No consent on any channel and no email: each closed channel says why and what fixes it;
    # Send is off, since any send would be refused.
    expect(compose.locator("[data-channel-closed=whatsapp]")).to_contain_text(
        "Asha Rao has not agreed to WhatsApp messages yet. Record their consent first."
    )
    email = compose.locator("[data-channel-closed=email]")
    expect(email).to_contain_text("Asha Rao has no email address for Email.")
    expect(email.get_by_role("link", name="Add an email address")).to_have_attribute(
        "href", f"/contacts/{contact.contactId}/edit/"
    )
    expect(compose.locator("select[name=channel] option[value=email]")).to_be_disabled()
    expect(compose.locator("button[value=send]")).to_be_disabled()
    expect(compose).not_to_contain_text("CONSENT_NEVER_GIVEN")  # codes stay in attributes, never in words
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compose-refusals-1280.png"), full_page=True)

    # Consent recorded from the composer (with its note); outside the window only templates go.
    record_consent(page, "whatsapp")
    assert Contact.get(contact.contactId).optInWhatsApp is True
    expect(compose.locator("[data-window-closed]")).to_contain_text(
        "has not written on WhatsApp in the last 24 hours, so WhatsApp takes only an approved template"
    )
    expect(compose.locator("select[name=kind]")).to_have_count(0)
    expect(compose.locator("textarea[name=text]")).to_have_count(0)
    compose.locator("select[name=template]").select_option("welcome_message|en_US")

    # A field per variable; the preview marks what is missing and Send waits for it.
    preview = compose.locator("[data-template-preview]")
    expect(preview).to_contain_text("Welcome to WECARE.DIGITAL")
    expect(preview).to_contain_text("Hello [value 1 missing], thank you for choosing [value 2 missing].")
    expect(preview).to_contain_text("Reply STOP to opt out")
    expect(compose.locator("button[value=send]")).to_be_disabled()
    compose.locator("input[name=body_1]").fill("Asha")
    expect(preview).to_contain_text("Hello Asha, thank you for choosing [value 2 missing].")  # live, as typed
    expect(compose.locator("#verdict")).to_contain_text("Fill in every value: value 2 is empty.")
    compose.locator("input[name=body_2]").fill("WECARE")
    expect(preview).to_contain_text("Hello Asha, thank you for choosing WECARE.")
    expect(compose.locator("[data-verdict=allowed]")).to_be_visible()
    expect(compose.locator("button[value=send]")).to_be_enabled()
    page.screenshot(path=str(ARTIFACTS / "compose-template-1280.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 640})
    expect(preview).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(ARTIFACTS / "compose-template-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    compose.locator("button[value=send]").click()
    expect(compose).to_contain_text("Queued")
    history = page.locator("#history")
    expect(history.locator("[data-status=sent]")).to_have_count(1)
    expect(history).to_contain_text("Hello Asha, thank you for choosing WECARE.")  # the text, not the name

    # SMS after its consent (the composer turns to it): a message box as wide as the form.
    record_consent(page, "sms")
    expect(compose.locator("select[name=channel]")).to_have_value("sms")  # the channel just opened
    box = compose.locator("textarea[name=text]")
    expect(box).to_be_visible()
    box_width, form_width = box.evaluate("el => [el.offsetWidth, el.closest('form').offsetWidth]")
    assert box_width >= 0.9 * form_width
    box.fill("Hello Asha")
    expect(compose.locator("[data-segments]")).to_have_attribute("data-segments", "1")
    compose.locator("button[value=send]").click()
    expect(history.locator("[data-status=sent]")).to_have_count(2)
    expect(history).to_contain_text("Hello Asha")


def test_a_viewer_sees_the_history_but_no_compose_form(login_page, live_server, viewer, operator, new_phone):
    contact = actions.create_contact({"name": "Viewer Vic", "phone": new_phone()}, user=operator, source="test")
    page = login_page(viewer)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    expect(page.locator("#history")).to_contain_text("No messages yet")
    expect(page.locator("#compose")).to_have_count(0)
