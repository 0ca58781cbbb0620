"""Compose in the browser: the gate's verdict before sending, the template picker when the window
is closed, and the message's status moving in the history without a reload."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from playwright.sync_api import expect

from contacts import actions
from contacts.models import Contact
from messaging.outbound import template_catalog
from wecare.dynamo import now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose_sms(page) -> None:
    page.locator("#compose select[name=channel]").select_option("sms")
    # the form redraws with SMS's senders: wait until the page shows it before typing into it
    # (what the page shows is live at once: htmx settles without delay, see templates/base.html)
    expect(page.locator("#compose select[name=sender]")).to_have_value(settings.SMS_POOL_ID)


def type_text(page, text: str) -> None:
    box = page.locator("#compose textarea[name=text]")
    box.fill(text)
    box.press("Tab")  # leaving the field fires change as well as input, as a person's typing does


def test_an_operator_sees_the_refusal_then_sends_sms_and_watches_its_status(
    login_page, live_server, operator, new_phone
):
    contact = actions.create_contact({"name": "Compose Carla", "phone": new_phone()}, user=operator, source="test")
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    compose = page.locator("#compose")
    expect(compose.locator("select[name=channel]")).to_be_visible()
    choose_sms(page)
    type_text(page, "Hello Carla")
    expect(page.locator("[data-verdict=CONSENT_NEVER_GIVEN]")).to_be_visible()
    page.locator("#compose button[value=send]").click()
    expect(page.locator("#compose [data-code=CONSENT_NEVER_GIVEN]")).to_contain_text("has not opted in to sms")

    actions.update_contact(contact.contactId, {"optInSms": True}, user=operator, source="test")
    page.reload()
    expect(page.locator("#compose select[name=channel]")).to_be_visible()
    choose_sms(page)
    type_text(page, "Hello Carla")
    expect(page.locator("[data-verdict=allowed]")).to_be_visible()
    expect(page.locator("[data-segments]")).to_have_attribute("data-segments", "1")
    page.locator("#compose button[value=send]").click()
    expect(page.locator("#compose")).to_contain_text("Queued")
    expect(page.locator("#history [data-status=sent]")).to_have_count(1)
    expect(page.locator("#history")).to_contain_text("Hello Carla")


def test_outside_the_window_free_form_whatsapp_asks_for_a_template_and_the_picker_offers_approved_ones(
    login_page, live_server, operator, new_phone, fake_aws_clean
):
    template_catalog.sync_templates()
    approved = template_catalog.approved_templates()
    contact = actions.create_contact(
        {"name": "Window Wanda", "phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test"
    )
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(hours=30))])
    page = login_page(operator)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    expect(page.locator("#whatsapp-window")).to_contain_text("No window open")
    expect(page.locator("#compose textarea[name=text]")).to_be_visible()
    type_text(page, "Are you there?")
    expect(page.locator("[data-verdict=TEMPLATE_REQUIRED]")).to_contain_text("pick an approved template")
    page.locator("#compose select[name=kind]").select_option("template")
    expect(page.locator("#compose select[name=template] option")).not_to_have_count(0)
    options = page.locator("#compose select[name=template] option").all_inner_texts()
    assert [o for o in options if not o.startswith("—")] and all(
        any(t.templateName in o for t in approved) for o in options if not o.startswith("—")
    )
    first = approved[0]
    page.locator("#compose select[name=template]").select_option(f"{first.templateName}|{first.templateLanguage}")
    expect(page.locator("#compose [data-template-body]")).to_be_visible()  # the form redrew for this template
    needed = template_catalog.expected_parameters(first)
    if needed["header"]:
        page.locator("#compose input[name=header_params]").fill("Header")
    page.locator("#compose textarea[name=body_params]").fill("\n".join(f"value {i}" for i in range(needed["body"])))
    page.locator("#compose textarea[name=body_params]").press("Tab")
    if needed["buttons"]:
        page.locator("#compose textarea[name=button_params]").fill("\n".join("token" for _ in needed["buttons"]))
    expect(page.locator("[data-verdict=allowed]")).to_be_visible()
    page.locator("#compose button[value=send]").click()
    expect(page.locator("#history [data-status=sent]")).to_have_count(1)
    expect(page.locator("#history")).to_contain_text(re.compile(first.templateName))


def test_a_viewer_sees_the_history_but_no_compose_form(login_page, live_server, viewer, operator, new_phone):
    contact = actions.create_contact({"name": "Viewer Vic", "phone": new_phone()}, user=operator, source="test")
    page = login_page(viewer)
    page.goto(f"{live_server.url}/contacts/{contact.contactId}/")
    expect(page.locator("#history")).to_contain_text("No messages yet")
    expect(page.locator("#compose")).to_have_count(0)
