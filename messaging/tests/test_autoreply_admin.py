"""The admin pages that edit WELCOME_CONFIG and MENU_CONFIG: validation, audit, permissions."""

from __future__ import annotations

import contextlib

import pytest
from ulid import ULID

from messaging.autoreply import config as autoreply_config
from messaging.tests.autoreply_fixtures import business_number, forget_templates
from messaging.whatsapp_table import WaMenuConfig, WaWelcomeConfig
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_configs_left_behind():
    yield
    for model, key in ((WaWelcomeConfig, autoreply_config.welcome_key), (WaMenuConfig, autoreply_config.menu_key)):
        for number in autoreply_config.tenants():
            with contextlib.suppress(model.DoesNotExist):
                model.get(key(number)).delete()


def welcome_url(number: str | None = None) -> str:
    return f"/admin/whatsapp/autoreply/{number or business_number()}/welcome/"


def menu_url(number: str | None = None) -> str:
    return f"/admin/whatsapp/autoreply/{number or business_number()}/menu/"


WELCOME_FORM = {
    "enabled": "on",
    "welcomeText": "Welcome!",
    "onlyOnFirstContact": "on",
    "cooldownHours": "24",
    "outsideWindowTemplateName": "",
}
MENU_FORM = {
    "enabled": "on",
    "triggerKeywords": "menu, hi",
    "bodyText": "How can we help?",
    "buttonText": "See options",
    "rows": "# Services\nbook | Book a visit | Pick a time\ntalk | Talk to us",
    "cooldownHours": "1",
}


def audited(action: str, pk: str) -> list[AuditLog]:
    day = now().strftime("%Y-%m-%d")
    return [e for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == pk) if e.action == action]


def test_an_admin_saves_the_welcome_and_it_is_audited(client_for, admin_user):
    text = f"Welcome! ({ULID()})"  # other tests save this config too: find this save's entry
    response = client_for(admin_user).post(welcome_url(), {**WELCOME_FORM, "welcomeText": text})
    assert response.status_code == 302 and response["Location"] == "/admin/whatsapp/autoreply/"
    saved = autoreply_config.load_welcome(business_number())
    assert (saved.enabled, saved.welcomeText, saved.onlyOnFirstContact, saved.cooldownHours, saved.tenantId) == (
        True,
        text,
        True,
        24,
        business_number(),
    )
    assert saved.pk == f"TENANT#{business_number()}#WELCOME#default"
    [entry] = [e for e in audited("whatsapp.welcome_config.set", saved.pk) if e.details["welcomeText"] == text]
    assert entry.userId == admin_user.username
    page = client_for(admin_user).get("/admin/whatsapp/autoreply/").content.decode()
    assert "first contact only, cooldown 24 h" in page


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"cooldownHours": "-1"}, "cooldownHours", "greater than or equal to 0"),
        ({"cooldownHours": "1.5"}, "cooldownHours", "whole number"),
        ({"welcomeText": ""}, "welcomeText", "Write the welcome text"),
        ({"outsideWindowTemplateName": "no_such_template"}, "outsideWindowTemplateName", "No approved template named"),
    ],
)
def test_the_welcome_form_refuses_bad_values_and_keeps_the_old_config(client_for, admin_user, change, field, says):
    admin = client_for(admin_user)
    admin.post(welcome_url(), WELCOME_FORM)
    response = admin.post(welcome_url(), {**WELCOME_FORM, **change})
    assert response.status_code == 422
    assert says in " ".join(response.context["form"].errors[field])
    assert autoreply_config.load_welcome(business_number()).welcomeText == "Welcome!"


def test_the_welcome_template_must_be_approved_and_take_no_values(request, client_for, admin_user, fake_aws_clean):
    from messaging.outbound.template_catalog import sync_templates

    fake_aws_clean.set_templates(
        [
            {
                "templateName": "plain_hello",
                "templateStatus": "APPROVED",
                "templateLanguage": "en_US",
                "components": [{"type": "BODY", "text": "Thanks for writing."}],
            },
            {
                "templateName": "named_hello",
                "templateStatus": "APPROVED",
                "templateLanguage": "en_US",
                "components": [{"type": "BODY", "text": "Hi {{1}}."}],
            },
            {
                "templateName": "pending_hello",
                "templateStatus": "PENDING",
                "templateLanguage": "en_US",
                "components": [{"type": "BODY", "text": "Hello."}],
            },
        ]
    )
    sync_templates()
    request.addfinalizer(lambda: forget_templates("plain_hello", "named_hello", "pending_hello"))
    admin = client_for(admin_user)
    form = admin.get(welcome_url()).content.decode()
    assert '<option value="plain_hello">' in form and "named_hello" not in form and "pending_hello" not in form
    takes_values = admin.post(welcome_url(), {**WELCOME_FORM, "outsideWindowTemplateName": "named_hello"})
    assert (
        takes_values.status_code == 422
        and "takes values" in takes_values.context["form"].errors["outsideWindowTemplateName"][0]
    )
    pending = admin.post(welcome_url(), {**WELCOME_FORM, "outsideWindowTemplateName": "pending_hello"})
    assert pending.status_code == 422
    assert admin.post(welcome_url(), {**WELCOME_FORM, "outsideWindowTemplateName": "plain_hello"}).status_code == 302
    assert autoreply_config.load_welcome(business_number()).outsideWindowTemplateName == "plain_hello"


def test_an_admin_saves_the_menu_and_gets_it_back_in_the_form(client_for, admin_user):
    admin = client_for(admin_user)
    assert admin.post(menu_url(), MENU_FORM).status_code == 302
    saved = autoreply_config.load_menu(business_number())
    assert saved.sections == [
        {
            "title": "Services",
            "rows": [
                {"id": "book", "title": "Book a visit", "description": "Pick a time"},
                {"id": "talk", "title": "Talk to us"},
            ],
        }
    ]
    assert (saved.triggerKeywords, saved.buttonText, saved.enabled, saved.cooldownHours) == (
        ["menu", "hi"],
        "See options",
        True,
        1,
    )
    assert audited("whatsapp.menu_config.set", saved.pk)
    form = admin.get(menu_url()).context["form"]
    assert form.initial["rows"] == MENU_FORM["rows"] and form.initial["triggerKeywords"] == "menu, hi"


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"buttonText": "x" * 21}, "buttonText", "at most 20 characters"),
        ({"rows": "a | " + "t" * 25}, "rows", "Line 1, title"),
        ({"rows": "\n".join(f"r{i} | Row {i}" for i in range(11))}, "rows", "11 rows in all; WhatsApp allows 10"),
        ({"rows": "a | One\na | Two"}, "rows", "Line 2, id: 'a' is used twice"),
        ({"rows": "only-an-id"}, "rows", "Line 1, title: is required"),
        ({"triggerKeywords": " , "}, "triggerKeywords", "at least one keyword"),
        ({"cooldownHours": "-2"}, "cooldownHours", "greater than or equal to 0"),
    ],
)
def test_the_menu_form_enforces_whatsapps_limits(client_for, admin_user, change, field, says):
    response = client_for(admin_user).post(menu_url(), {**MENU_FORM, **change})
    assert response.status_code == 422
    assert says in " ".join(response.context["form"].errors[field])
    assert autoreply_config.load_menu(business_number()) is None


def test_a_number_that_is_not_allowlisted_is_404(client_for, admin_user):
    assert client_for(admin_user).get(welcome_url("phone-number-id-notours")).status_code == 404
    assert client_for(admin_user).post(menu_url("phone-number-id-notours"), MENU_FORM).status_code == 404


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_only_an_admin_may_see_or_change_the_configs(request, client_for, persona):
    someone = client_for(request.getfixturevalue(persona))
    assert someone.get("/admin/whatsapp/autoreply/").status_code == 403
    assert someone.post(welcome_url(), WELCOME_FORM).status_code == 403
    assert someone.post(menu_url(), MENU_FORM).status_code == 403
    assert (
        autoreply_config.load_welcome(business_number()) is None
        and autoreply_config.load_menu(business_number()) is None
    )
