"""A template rendered as the customer reads it (template_catalog.render), on the repo's template
fixtures in Meta's documented shape (localaws/fakeaws/templates.py): header, body, footer and
buttons, each ``{{n}}`` filled, a missing value shown as missing; and the validation sentences a
person reads when the values do not fit."""

from __future__ import annotations

import pytest

from localaws.fakeaws.templates import SEED_TEMPLATES
from messaging.outbound import template_catalog
from messaging.outbound.template_catalog import render
from messaging.whatsapp_table import WaTemplate
from wecare.errors import FieldErrors


def fixture(name: str, language: str = "en_US") -> WaTemplate:
    seed = next(t for t in SEED_TEMPLATES if t["templateName"] == name and t["templateLanguage"] == language)
    return WaTemplate(
        pk=WaTemplate.key("waba", name, language),
        templateName=name,
        templateLanguage=language,
        templateStatus=seed["templateStatus"],
        components=seed["components"],
    )


def test_header_body_footer_and_quick_replies_read_as_the_customer_sees_them():
    rendered = render(fixture("welcome_message"), {"body": ["Asha", "WECARE.DIGITAL"]})

    assert rendered.text == (
        "Welcome to WECARE.DIGITAL\n"
        "Hello Asha, thank you for choosing WECARE.DIGITAL. Reply to this message any time.\n"
        "Reply STOP to opt out\n"
        "[Get started] [Talk to us]"
    )
    assert rendered.body_text == "Hello Asha, thank you for choosing WECARE.DIGITAL. Reply to this message any time."
    assert not rendered.missing


def test_a_missing_value_is_shown_as_missing_never_blank():
    rendered = render(fixture("welcome_message"), {"body": ["Asha"]})

    assert rendered.body_text.startswith("Hello Asha, thank you for choosing [value 2 missing].")
    assert rendered.missing
    assert [(p.key, p.missing) for p in rendered.body if p.slot] == [("body-1", False), ("body-2", True)]


def test_a_blank_value_counts_as_missing():
    assert "[value 1 missing]" in render(fixture("seasonal_offer"), {"body": ["  ", "15%"]}).body_text


def test_a_url_buttons_value_completes_its_link():
    rendered = render(fixture("appointment_reminder"), {"body": ["Ravi", "12 March, 10:30"], "buttons": [["abc123"]]})

    assert rendered.text.endswith("[Manage booking → https://wecare.digital/booking/abc123]")
    assert [p.key for p in rendered.buttons[0] if p.slot] == ["button-0-1"]


def test_a_media_header_is_named_not_drawn():
    rendered = render(fixture("order_update"), {"body": ["Meera", "WC-1042"]})

    assert rendered.header_media == "image"
    assert rendered.text == "[Image]\nHi Meera, your order WC-1042 is on its way."


def test_without_values_the_variables_themselves_are_shown_for_the_templates_page():
    rendered = render(fixture("seasonal_offer"), None)

    assert rendered.body_text == "Dear {{1}}, enjoy {{2}} off this month."
    assert not rendered.missing and [p.slot for p in rendered.body if p.slot] == [1, 2]


def test_other_scripts_render_unchanged():
    assert render(fixture("welcome_message", "hi"), {"body": ["आशा", "WECARE"]}).text == (
        "नमस्ते आशा, WECARE चुनने के लिए धन्यवाद।"
    )


@pytest.mark.django_db
def test_a_sent_template_no_longer_synced_falls_back_to_its_name_and_values():
    gone = {"name": "retired_offer_zz", "language": "en_US", "parameters": {"body": ["Asha", "10%"]}}

    assert template_catalog.render_sent(gone) is None
    assert template_catalog.sent_text(gone) == "Template retired_offer_zz (Asha, 10%)"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("parameters", "field", "sentence"),
    [
        ({"body": []}, "template.parameters.body", "This template needs 2 values; you gave none."),
        ({"body": ["Asha"]}, "template.parameters.body", "This template needs 2 values; you gave 1."),
        ({"body": ["Asha", " "]}, "template.parameters.body", "Fill in every value: value 2 is empty."),
        (
            {"body": ["Ravi", "Monday"], "buttons": []},
            "template.parameters.buttons",
            "This template's link buttons need 1 value (one for each link that ends in a value); you gave none.",
        ),
        (
            {"body": ["Asha", "x" * 1025]},
            "template.parameters.body",
            "Shorten the values: value 2 is longer than 1,024 characters.",
        ),
        (
            {"body": ["Asha\nRao", "a     b"]},
            "template.parameters.body",
            "WhatsApp takes each value on one line, without tabs or more than four spaces in a row: values 1, 2"
            " are not.",
        ),
        (
            {"body": ["Ravi", "Monday"], "buttons": [["t" * 2001]]},
            "template.parameters.buttons",
            "Shorten the link buttons' values: each takes at most 2,000 characters.",
        ),
    ],
)
def test_values_that_do_not_fit_are_said_as_a_person_would(fake_aws_clean, parameters, field, sentence):
    template_catalog.sync_templates()
    name = "appointment_reminder" if "buttons" in parameters else "welcome_message"

    with pytest.raises(FieldErrors) as refused:
        template_catalog.validate(name, "en_US", parameters)

    assert refused.value.errors[field] == sentence  # the key stays the API's field path


@pytest.mark.django_db
def test_a_template_not_approved_is_named_with_what_whatsapp_said(fake_aws_clean):
    template_catalog.sync_templates()

    with pytest.raises(FieldErrors) as refused:
        template_catalog.validate("flash_sale", "en_US", {"body": ["a", "b"]})

    assert refused.value.errors["template"] == (
        "The template flash_sale was rejected by WhatsApp; only approved templates can be sent."
    )
