"""A WhatsApp number's business profile on its admin page: versions with who changed which field,
Meta's limits refused with a 422, a stale form with a 409, and the applied state an admin sets by
hand because no AWS operation applies a profile."""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings

from messaging import business_profile
from messaging.whatsapp_table import WaBusinessProfile
from wecare.aws import client
from wecare.dynamo import now
from wecare.models import AuditLog

pytestmark = pytest.mark.django_db
WHATSAPP = settings.WHATSAPP_PHONE_NUMBER_IDS[0]
PAGE = f"/admin/business-numbers/{WHATSAPP}/profile/"
FILLED = {
    "about": "Care, delivered.",
    "description": "We deliver medicines.\r\nOpen every day.",  # as a browser posts a textarea
    "address": "1 MG Road, Pune 411001",
    "email": "hello@wecare.digital",
    "website_1": "https://wecare.digital",
    "website_2": "instagram.com/wecare",  # no scheme: https:// is added, as Meta wants one
    "vertical": "HEALTH",
}


@pytest.fixture(autouse=True)
def no_profile():
    def forget() -> None:
        with contextlib.suppress(WaBusinessProfile.DoesNotExist):
            WaBusinessProfile.get(business_profile.key(WHATSAPP)).delete()

    forget()
    yield
    forget()


def audited(action: str) -> list[AuditLog]:
    day = now().strftime("%Y-%m-%d")
    return [
        e for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == WHATSAPP) if e.action == action
    ]


def test_each_save_is_a_version_saying_who_changed_which_field_and_it_waits_to_be_applied(client_for, admin_user):
    client = client_for(admin_user)
    assert "Unknown." in client.get(PAGE).content.decode()

    assert client.post(PAGE, {**FILLED, "version": 0}).status_code == 302
    first = business_profile.load(WHATSAPP)
    assert (first.version, first.applied_state) == (1, "pending")
    assert first.websites == ("https://wecare.digital", "https://instagram.com/wecare")
    assert first.description == "We deliver medicines.\nOpen every day."
    assert first.history[0]["by"] == admin_user.get_username()
    assert first.history[0]["changes"]["email"] == {"before": "", "after": "hello@wecare.digital"}

    assert (
        client.post(PAGE, {**FILLED, "email": "care@wecare.digital", "website_2": "", "version": 1}).status_code == 302
    )
    second = business_profile.load(WHATSAPP)
    assert second.version == 2
    assert second.history[-1]["changes"] == {
        "email": {"before": "hello@wecare.digital", "after": "care@wecare.digital"},
        "websites": {
            "before": ["https://wecare.digital", "https://instagram.com/wecare"],
            "after": ["https://wecare.digital"],
        },
    }
    # The same values again: no new version.
    client.post(PAGE, {**FILLED, "email": "care@wecare.digital", "website_2": "", "version": 2})
    assert business_profile.load(WHATSAPP).version == 2
    assert [e.details["version"] for e in audited("business_profile.set")][-2:] == [1, 2]

    assert "business profile</a> (pending)" in client.get("/admin/business-numbers/").content.decode()
    page = client.get(PAGE).content.decode()
    assert "Not yet." in page and "has no operation that sets one" in page and "WhatsApp Manager" in page
    assert "care@wecare.digital" in page and "Medical and health" in page


def test_a_description_of_as_many_characters_as_meta_allows_is_taken_whatever_its_line_breaks(client_for, admin_user):
    lines = "\r\n".join(["x" * 100] * 5) + "\r\n" + "y" * 7  # 512 characters once each break is one
    assert client_for(admin_user).post(PAGE, {**FILLED, "description": lines, "version": 0}).status_code == 302
    assert len(business_profile.load(WHATSAPP).description) == business_profile.MAX_DESCRIPTION


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("about", "a" * (business_profile.MAX_ABOUT + 1)),
        ("description", "d" * (business_profile.MAX_DESCRIPTION + 1)),
        ("address", "x" * (business_profile.MAX_ADDRESS + 1)),
        ("email", "not-an-email"),
        ("email", "a" * 118 + "@example.com"),  # 130 characters: over Meta's 128
        ("website_1", "ftp://wecare.digital/files"),
        ("website_2", "https://wecare.digital/" + "p" * business_profile.MAX_WEBSITE),
        ("vertical", "CASINO"),
    ],
)
def test_it_refuses_what_meta_would_refuse(client_for, admin_user, field, value):
    response = client_for(admin_user).post(PAGE, {**FILLED, field: value, "version": 0})
    assert response.status_code == 422
    assert "errorlist" in response.content.decode()
    assert business_profile.load(WHATSAPP).version == 0


def test_a_form_based_on_an_older_version_is_refused_and_overwrites_nothing(client_for, admin_user):
    client = client_for(admin_user)
    client.post(PAGE, {**FILLED, "version": 0})
    response = client.post(PAGE, {**FILLED, "about": "Someone else's", "version": 0})
    assert response.status_code == 409 and "reload the page" in response.content.decode()
    assert business_profile.load(WHATSAPP).about == FILLED["about"]


def test_an_admin_marks_the_pending_version_applied_and_a_new_save_is_pending_again(client_for, admin_user):
    client = client_for(admin_user)
    client.post(PAGE, {**FILLED, "version": 0})
    client.post(PAGE, {"do": "applied", "version": 7})  # not the pending version: nothing marked
    assert business_profile.load(WHATSAPP).applied_state == "pending"

    assert client.post(PAGE, {"do": "applied", "version": 1}).status_code == 302
    applied = business_profile.load(WHATSAPP)
    assert (applied.applied_state, applied.applied_by, applied.version) == ("applied", admin_user.get_username(), 1)
    assert applied.history[-1]["changes"] == {"appliedState": {"before": "pending", "after": "applied"}}
    assert [e.details["version"] for e in audited("business_profile.applied")][-1:] == [1]
    assert "Yes." in client.get(PAGE).content.decode()

    client.post(PAGE, {**FILLED, "about": "Care, delivered daily.", "version": 1})
    again = business_profile.load(WHATSAPP)
    assert (again.applied_state, again.version, again.applied_by) == ("pending", 2, admin_user.get_username())
    assert "An earlier version was marked applied" in client.get(PAGE).content.decode()


def test_no_aws_operation_applies_a_profile():
    """The page tells admins to apply the profile in WhatsApp Manager because EUM Social has no
    operation for it: if botocore's model gains one, this fails so the page can use it."""
    model = client("socialmessaging").meta.service_model  # the app's own client: its model is loaded already
    assert not [name for name in model.operation_names if "profile" in name.lower()]


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_only_an_admin_sees_or_edits_a_profile(client_for, request, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {**FILLED, "version": 0}).status_code == 403


def test_only_a_whatsapp_number_has_a_profile(client_for, admin_user):
    assert client_for(admin_user).get(f"/admin/business-numbers/{settings.SMS_POOL_ID}/profile/").status_code == 404


def test_a_profile_stored_before_versions_existed_can_be_saved_once_and_then_conflicts(admin_user):
    """An item with no profileVersion reads as version 0: the first save replaces it (it used to
    be refused forever as a conflict), and a second save from the same stale form is refused."""
    WaBusinessProfile(
        pk=business_profile.key(WHATSAPP),
        tenantId=WHATSAPP,
        phoneNumberId=WHATSAPP,
        about="Old words",
        receivedAt="2025",
    ).save()
    assert business_profile.load(WHATSAPP).version == 0
    values = {**business_profile.load(WHATSAPP).values(), "about": "New words"}

    saved = business_profile.save(WHATSAPP, values, expected_version=0, user=admin_user)

    assert (saved.version, saved.about) == (1, "New words")
    assert saved.history[-1]["changes"]["about"] == {"before": "Old words", "after": "New words"}
    with pytest.raises(business_profile.Conflict):
        business_profile.save(WHATSAPP, {**values, "about": "Newer"}, expected_version=0, user=admin_user)
