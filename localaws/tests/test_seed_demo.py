"""`manage.py seed_demo` (the local stack's demo users and contacts): the three roles' users with one
password, refreshed at every start; contacts only into an empty table; never outside development."""

from __future__ import annotations

import contextlib

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts import actions
from messaging import business_numbers
from messaging.whatsapp_table import WaBusinessNumber
from wecare.roles import Role

pytestmark = pytest.mark.django_db


def test_it_creates_a_user_per_role_then_resets_their_password(new_phone, capsys, unnamed_numbers):
    actions.create_contact({"name": "Already here", "phone": new_phone()}, user=None, source="test")

    call_command("seed_demo", "--password", "first-password")
    call_command("seed_demo", "--password", "second-password")

    out = capsys.readouterr().out
    users = {user.username: user for user in get_user_model().objects.filter(username__in=[r.label for r in Role])}
    assert sorted(users) == sorted(role.label for role in Role)
    for role in Role:
        user = users[role.label]
        assert [group.name for group in user.groups.all()] == [role.group_name]
        assert user.check_password("second-password")
        assert user.is_staff == user.is_superuser == (role == Role.ADMIN)
        assert f"created demo user {role.label}" in out
        assert f"updated demo user {role.label}" in out
    assert "contacts exist already: no demo contacts added" in out


def test_it_refuses_outside_development(settings):
    settings.ENVIRONMENT = "staging"
    with pytest.raises(CommandError, match="only runs with ENVIRONMENT=development"):
        call_command("seed_demo", "--password", "x")


@pytest.fixture
def unnamed_numbers():
    """No business number named before or after (the names are shared by every test of the process)."""

    def forget() -> None:
        for number in business_numbers.allowlisted():
            with contextlib.suppress(WaBusinessNumber.DoesNotExist):
                WaBusinessNumber.get(f"BUSINESS_NUMBER#{number.sender}").delete()
        business_numbers.forget_cache()

    forget()
    yield
    forget()


def test_it_names_the_demo_business_numbers_and_keeps_a_name_an_admin_set(
    unnamed_numbers, admin_user, settings, fake_aws_clean
):
    first, second = settings.WHATSAPP_PHONE_NUMBER_IDS[:2]
    pool = settings.SMS_POOL_ID
    business_numbers.save(pool, name="Kept", phone="", user=admin_user)
    call_command("seed_demo", "--password", "pw")
    # The WhatsApp numbers as AWS (the local fake) names them; the others by the demo's names.
    assert business_numbers.label(first) == "WECARE.DIGITAL Sales · +1 415-555-0000"
    assert business_numbers.label(second) == "WECARE.DIGITAL Support · +1 415-555-0001"
    assert business_numbers.label(pool) == "Kept"
    assert business_numbers.label(settings.SES_SENDER_EMAIL) == f"Hello · {settings.SES_SENDER_EMAIL}"
