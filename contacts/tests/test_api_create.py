import pytest

pytestmark = pytest.mark.django_db


def test_it_creates_a_contact_with_opt_ins_off_by_default(client_for, operator, new_phone):
    api = client_for(operator)
    phone = new_phone()
    response = api.post("/api/contacts", {"name": "Asha Rao", "phone": phone}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == phone
    assert (body["optInWhatsApp"], body["optInSms"], body["optInEmail"]) == (False, False, False)
    assert body["consent"]["whatsapp"]["changedBy"] is None
