"""Where people land and how admins reach the Django admin."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_login_lands_on_the_inbox(client, operator):
    response = client.post("/accounts/login/", {"username": operator.username, "password": "pw-" + operator.username})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == "/dm/"


def test_an_admin_gets_a_link_to_the_django_admin_and_others_do_not(client_for, admin_user, operator, viewer):
    assert 'class="admin-link" href="/admin/"' in client_for(admin_user).get("/contacts/").content.decode()
    for person in (operator, viewer):
        assert "admin-link" not in client_for(person).get("/contacts/").content.decode()
