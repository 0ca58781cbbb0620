"""The compose panel names its channel in the query string or the form: a channel that does not
exist is a 400 that says which ones do, never a 500."""

from __future__ import annotations

import pytest

from contacts import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact_id(operator, new_phone) -> str:
    return actions.create_contact(
        {"name": "Channel Chan", "phone": new_phone()}, user=operator, source="test"
    ).contactId


@pytest.mark.parametrize("channel", ["fax", "WhatsApp", "<script>alert(1)</script>", "x" * 5000])
def test_an_unknown_channel_in_the_query_is_a_400_naming_the_channels(client_for, operator, contact_id, channel):
    response = client_for(operator).get(f"/messages/contact/{contact_id}/compose/", {"channel": channel})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "choose whatsapp, sms or email" in response.content.decode()


def test_an_unknown_channel_posted_is_a_400_and_nothing_is_sent(client_for, operator, contact_id):
    from messaging.models import Message

    response = client_for(operator).post(
        f"/messages/contact/{contact_id}/compose/", {"channel": "fax", "action": "send", "text": "Hi"}
    )

    assert response.status_code == 400
    assert "Unknown channel 'fax'" in response.content.decode()
    assert list(Message.by_contact.query(contact_id)) == []


def test_a_known_channel_still_draws_its_form(client_for, operator, contact_id):
    response = client_for(operator).get(f"/messages/contact/{contact_id}/compose/", {"channel": "sms"})

    assert response.status_code == 200
