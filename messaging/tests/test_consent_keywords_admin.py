"""The admin page that edits each channel's consent keywords: defaults shown, validation, audit,
permissions."""

from __future__ import annotations

import contextlib

import pytest
from ulid import ULID

from messaging.autoreply import keyword_rules
from messaging.inbound.keywords import Intent, classify
from messaging.whatsapp_table import WaConsentKeywords
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db
INDEX = "/admin/consent-keywords/"


@pytest.fixture(autouse=True)
def default_rules():
    def forget() -> None:
        for channel in keyword_rules.CHANNELS:
            with contextlib.suppress(WaConsentKeywords.DoesNotExist):
                WaConsentKeywords.get(keyword_rules.key(channel)).delete()

    forget()
    yield
    forget()


def url(channel: str) -> str:
    return f"{INDEX}{channel}/"


FORM = {
    "optOutWords": "STOP\nunsubscribe, बंद करें",
    "optInWords": "START\nशुरू",
    "optOutButtons": "Stop promotions",
    "optOutConfirmation": "You are unsubscribed.",
    "optInConfirmation": "Welcome back.",
}


def audited(pk: str) -> list[AuditLog]:
    day = now().strftime("%Y-%m-%d")
    return [
        e
        for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == pk)
        if e.action == "consent.keywords.set"
    ]


def test_the_index_shows_the_defaults_of_both_channels_and_is_linked_from_the_admin_home(client_for, admin_user):
    page = client_for(admin_user).get(INDEX).content.decode()
    assert "whatsapp (defaults)" in page and "sms (defaults)" in page
    assert "STOP" in page and "बंद करें" in page and "Stop promotions" in page
    home = client_for(admin_user).get("/admin/").content.decode()
    assert f'href="{INDEX}"' in home and "/admin/whatsapp/autoreply/" in home


def test_the_edit_page_starts_from_the_defaults(client_for, admin_user):
    page = client_for(admin_user).get(url("whatsapp")).content.decode()
    assert "UNSUBSCRIBE" in page and keyword_rules.defaults("whatsapp").opt_out_confirmation in page


def test_an_admin_saves_the_words_they_are_used_and_the_change_is_audited_with_what_was_before(client_for, admin_user):
    word = f"halt{str(ULID())[-6:].lower()}"
    response = client_for(admin_user).post(url("whatsapp"), {**FORM, "optOutWords": f"{word}\nSTOP"})

    assert response.status_code == 302 and response["Location"] == INDEX
    rules = keyword_rules.load("whatsapp")
    assert rules.stored and rules.opt_out_words == [word, "STOP"] and rules.opt_in_words == ["START", "शुरू"]
    assert rules.opt_out_buttons == ["Stop promotions"] and rules.opt_out_confirmation == "You are unsubscribed."
    assert classify("whatsapp", word.upper() + "!") == Intent.OPT_OUT
    assert classify("whatsapp", "CANCEL") is None  # no longer a word here...
    assert classify("sms", "CANCEL") == Intent.OPT_OUT  # ...but SMS keeps its own rules
    [entry] = [e for e in audited(keyword_rules.key("whatsapp")) if word in e.details["optOutWords"]]
    assert entry.userId == admin_user.username and entry.details["channel"] == "whatsapp"
    assert "CANCEL" in entry.details["before"]["optOutWords"] and entry.details["before"]["stored"] is False
    assert WaConsentKeywords.get(keyword_rules.key("whatsapp")).updatedBy == admin_user.username


def test_sms_has_no_buttons_and_confirmations_are_optional(client_for, admin_user):
    form = {**FORM, "optOutConfirmation": "", "optInConfirmation": ""}
    form.pop("optOutButtons")
    response = client_for(admin_user).get(url("sms"))
    assert "optOutButtons" not in response.context["form"].fields
    assert 'name="optOutButtons"' not in response.content.decode()
    assert "AWS answers the keyword" in response.content.decode()

    assert client_for(admin_user).post(url("sms"), form).status_code == 302
    assert keyword_rules.load("sms").opt_out_buttons == []


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"optOutWords": "  \n , "}, "optOutWords", "Give at least one word."),
        ({"optInWords": "START\nstop!"}, "optInWords", "Both an opt-in and an opt-out word"),
        ({"optInWords": "Stop Promotions"}, "optInWords", "Both an opt-in and an opt-out word"),
        ({"optOutWords": "STOP\n" + "x" * 31}, "optOutWords", "at most 30"),
        ({"optOutWords": "STOP\n!!!"}, "optOutWords", "only punctuation or symbols"),
        ({"optOutWords": "\n".join(f"w{i}" for i in range(51))}, "optOutWords", "At most 50 entries"),
        ({"optOutConfirmation": "x" * 4097}, "optOutConfirmation", "at most 4096"),
        ({"optOutConfirmation": ""}, "optOutConfirmation", "This field is required."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_saved(client_for, admin_user, change, field, says):
    response = client_for(admin_user).post(url("whatsapp"), {**FORM, **change})

    assert response.status_code == 422
    assert says in " ".join(response.context["form"].errors[field])
    assert "nothing was saved" in response.content.decode()
    assert keyword_rules.load("whatsapp").stored is False


def test_an_sms_confirmation_longer_than_an_sms_may_be_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(url("sms"), {**FORM, "optOutConfirmation": "x" * 1601})
    assert response.status_code == 422 and "at most 1600" in " ".join(
        response.context["form"].errors["optOutConfirmation"]
    )


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_only_an_admin_may_see_or_change_the_keywords(client_for, request, persona):
    person = request.getfixturevalue(persona)
    client = client_for(person)
    assert client.get(INDEX).status_code == 403
    assert client.get(url("whatsapp")).status_code == 403
    assert client.post(url("whatsapp"), {**FORM, "optOutWords": "nothing"}).status_code == 403
    assert keyword_rules.load("whatsapp").stored is False


def test_an_unknown_channel_is_not_found(client_for, admin_user):
    assert client_for(admin_user).get(url("email")).status_code == 404
