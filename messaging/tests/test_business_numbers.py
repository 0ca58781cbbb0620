"""Business numbers by name: the label every page shows, and the audited admin page that sets it."""

from __future__ import annotations

import contextlib

import pytest
from celery import current_app
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template import Context, Template

from messaging import business_numbers
from messaging.whatsapp_table import WaBusinessNumber
from wecare.alerts import Kind
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db
INDEX = "/admin/business-numbers/"
WHATSAPP = settings.WHATSAPP_PHONE_NUMBER_IDS[0]


@pytest.fixture(autouse=True)
def unnamed():
    def forget() -> None:
        for n in business_numbers.allowlisted():
            with contextlib.suppress(WaBusinessNumber.DoesNotExist):
                WaBusinessNumber.get(f"BUSINESS_NUMBER#{n.sender}").delete()
        business_numbers.forget_cache()

    forget()
    yield
    forget()


def test_an_unnamed_number_reads_as_a_short_form_of_its_id_never_the_bare_id():
    assert business_numbers.label("phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54") == "WhatsApp number …44ce54"
    assert business_numbers.label("pool-6fbf5a5f390d4eeeaa7dbae39d78933e") == "SMS pool …78933e"
    assert business_numbers.label("+12125550101") == "+1 212-555-0101"
    assert business_numbers.label("one@wecare.digital") == "one@wecare.digital"
    assert business_numbers.label("") == ""


def test_a_named_number_reads_as_name_and_phone_and_the_name_alone_without_a_phone(admin_user):
    business_numbers.save(WHATSAPP, name="Sales", phone="+919876500001", user=admin_user)
    assert business_numbers.label(WHATSAPP) == "Sales · +91 98765 00001"
    business_numbers.save(WHATSAPP, name="Sales", phone="", user=admin_user)
    assert business_numbers.label(WHATSAPP) == "Sales"
    business_numbers.save(WHATSAPP, name="", phone="+919876500001", user=admin_user)
    assert business_numbers.label(WHATSAPP) == "+91 98765 00001"


def test_the_template_filter_names_the_number(admin_user):
    business_numbers.save(WHATSAPP, name="Support", phone="+919876500002", user=admin_user)
    rendered = Template("{% load business_numbers %}{{ n|business_number }}").render(Context({"n": WHATSAPP}))
    assert rendered == "Support · +91 98765 00002"


def test_an_admin_names_a_number_on_the_admin_page_and_the_change_is_audited(client_for, admin_user):
    client = client_for(admin_user)
    listing = client.get(INDEX).content.decode()
    assert WHATSAPP in listing and "WhatsApp number …" in listing
    assert f'href="{INDEX}"' in client.get("/admin/").content.decode()
    # A national number takes the default country (DEFAULT_PHONE_REGION)
    response = client.post(f"{INDEX}{WHATSAPP}/", {"name": "Sales", "phone": "98765 00001"})
    assert response.status_code == 302
    assert "Sales · +91 98765 00001" in client.get(INDEX).content.decode()
    day = now().strftime("%Y-%m-%d")
    (entry,) = [
        e
        for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == WHATSAPP)
        if e.action == "business_number.set"
    ][-1:]
    assert entry.details["name"] == "Sales" and entry.details["phone"] == "+919876500001"
    assert entry.details["before"] == {"name": "", "phone": ""}


def test_the_page_refuses_a_phone_that_is_not_one_and_an_unknown_sender(client_for, admin_user):
    client = client_for(admin_user)
    response = client.post(f"{INDEX}{WHATSAPP}/", {"name": "Sales", "phone": "12"})
    assert response.status_code == 422 and "is not" in response.content.decode()
    assert business_numbers.label(WHATSAPP).startswith("WhatsApp number")
    assert client.get(f"{INDEX}phone-number-id-not-ours/").status_code == 404


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_only_an_admin_may_name_numbers(client_for, request, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(INDEX).status_code == 403
    assert client.post(f"{INDEX}{WHATSAPP}/", {"name": "X"}).status_code == 403


# --- names from AWS (GetLinkedWhatsAppBusinessAccountPhoneNumber, the local fake over HTTP) ---------

REFRESHED = "WECARE.DIGITAL Sales · +1 415-555-0000"  # the fake's first linked number (localaws/fakeaws/account.py)


def test_whatsapp_numbers_take_their_names_from_aws_which_win_over_an_admins(fake_aws_clean, admin_user):
    business_numbers.save(WHATSAPP, name="Sales", phone="+919876500001", user=admin_user)
    business_numbers.save(settings.SMS_POOL_ID, name="Promotions", phone="", user=admin_user)

    assert business_numbers.refresh_from_aws() == len(settings.WHATSAPP_PHONE_NUMBER_IDS)

    asked = [c["params"]["id"] for c in fake_aws_clean.calls("GetLinkedWhatsAppBusinessAccountPhoneNumber")]
    assert asked == settings.WHATSAPP_PHONE_NUMBER_IDS
    assert business_numbers.label(WHATSAPP) == REFRESHED
    number = business_numbers.get(WHATSAPP)
    assert number is not None and number.from_aws and number.quality == "GREEN"
    assert (number.name, number.phone) == ("Sales", "+919876500001")  # kept, shown only without AWS's
    # SMS and email have no display name at AWS: the admin's stays what pages show.
    assert business_numbers.label(settings.SMS_POOL_ID).startswith("Promotions")
    # An admin's save afterwards changes the admin's name only; AWS's still wins.
    business_numbers.save(WHATSAPP, name="Front desk", phone="", user=admin_user)
    assert business_numbers.label(WHATSAPP) == REFRESHED
    assert business_numbers.get(WHATSAPP).name == "Front desk"  # type: ignore[union-attr]
    # Meta approves a new display name: the next refresh brings it to every label.
    fake_aws_clean.rename_number(WHATSAPP, "WECARE.DIGITAL Care")
    business_numbers.refresh_from_aws()
    assert business_numbers.label(WHATSAPP) == "WECARE.DIGITAL Care · +1 415-555-0000"
    fake_aws_clean.reset()  # the fake's names back for the tests after this one


def test_a_number_aws_does_not_answer_for_keeps_its_name_and_the_others_are_refreshed(fake_aws_clean, admin_user):
    business_numbers.save(WHATSAPP, name="Sales", phone="", user=admin_user)
    fake_aws_clean.fail("GetLinkedWhatsAppBusinessAccountPhoneNumber", "ResourceNotFoundException")

    assert business_numbers.refresh_from_aws() == len(settings.WHATSAPP_PHONE_NUMBER_IDS) - 1

    assert business_numbers.label(WHATSAPP) == "Sales"
    second = settings.WHATSAPP_PHONE_NUMBER_IDS[1]
    assert business_numbers.label(second) == "WECARE.DIGITAL Support · +1 415-555-0001"


def test_pages_label_a_number_by_its_name_from_aws(fake_aws_clean, client_for, operator):
    business_numbers.refresh_from_aws()
    rendered = Template("{% load business_numbers %}{{ n|business_number }}").render(Context({"n": WHATSAPP}))
    assert rendered == REFRESHED
    # The Agent page lists every WhatsApp number by its label.
    assert REFRESHED in client_for(operator).get("/agent/personas/").content.decode()


def test_an_admin_refreshes_from_aws_on_the_page_which_says_where_each_name_comes_from(
    fake_aws_clean, client_for, admin_user
):
    client = client_for(admin_user)
    assert "not named yet" in client.get(INDEX).content.decode()
    assert client.post(INDEX).status_code == 302
    listing = client.get(INDEX).content.decode()
    assert REFRESHED in listing and "from AWS" in listing and "quality GREEN" in listing
    assert f'href="{INDEX}{WHATSAPP}/profile/"' in listing
    assert "AWS names this number" in client.get(f"{INDEX}{WHATSAPP}/").content.decode()
    day = now().strftime("%Y-%m-%d")
    refreshes = list(AuditLog.by_day.query(day, filter_condition=AuditLog.action == "business_number.refresh"))
    assert refreshes and refreshes[-1].details["refreshed"] == len(settings.WHATSAPP_PHONE_NUMBER_IDS)


def test_the_command_and_the_beat_task_refresh_and_the_command_fails_when_a_number_was_not(fake_aws_clean):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "messaging.refresh_business_numbers" in schedule
    assert current_app.tasks["messaging.refresh_business_numbers"].apply().get() == len(
        settings.WHATSAPP_PHONE_NUMBER_IDS
    )
    call_command("refresh_business_numbers")
    fake_aws_clean.fail("GetLinkedWhatsAppBusinessAccountPhoneNumber", "AccessDeniedException")
    with pytest.raises(CommandError, match="some numbers were not refreshed"):
        call_command("refresh_business_numbers")


def test_aws_refusing_the_role_raises_one_alert_and_asks_no_further(fake_aws_clean, monkeypatch):
    # What becomes of an alert (stored, deduplicated, published) is wecare/alerts.py's and tested
    # there; here only that this refusal raises one, through the interface every part calls.
    raised: list[tuple] = []
    monkeypatch.setattr(business_numbers, "raise_alert", lambda *args, **kw: raised.append((*args, kw)) or True)
    fake_aws_clean.fail("GetLinkedWhatsAppBusinessAccountPhoneNumber", "AccessDeniedException")  # the next call only

    assert business_numbers.refresh_from_aws() == 0

    # The refused role would refuse every number alike: the first refusal is the only call (the
    # second number would have been answered).
    assert len(fake_aws_clean.calls("GetLinkedWhatsAppBusinessAccountPhoneNumber")) == 1
    [(kind, subject, summary, options)] = raised
    assert (kind, subject, options) == (Kind.PROVIDER_AUTH, "socialmessaging", {"link": INDEX})
    assert "AccessDeniedException" in summary
