"""/api/contacts as an API client sees it."""

import pytest

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def api(client_for, operator):
    return client_for(operator)


def test_it_creates_a_contact_with_opt_ins_off_by_default(api, new_phone):
    phone = new_phone()
    response = api.post("/api/contacts", {"name": "Asha Rao", "phone": phone}, content_type=JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == phone
    assert (body["optInWhatsApp"], body["optInSms"], body["optInEmail"]) == (False, False, False)
    assert body["consent"]["whatsapp"] == {"optedIn": False, "changedBy": None, "changedAt": None, "source": None}
    assert body["whatsappWindowExpiresAt"] is None


def test_invalid_input_is_a_422_naming_the_field(api):
    response = api.post("/api/contacts", {"phone": "not a phone"}, content_type=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "phone"]


def test_unknown_fields_are_refused(api, new_phone):
    response = api.post("/api/contacts", {"phone": new_phone(), "optIn": True}, content_type=JSON)
    assert response.status_code == 422


def test_a_duplicate_phone_is_a_409_naming_the_field(api, new_phone):
    phone = new_phone()
    assert api.post("/api/contacts", {"phone": phone}, content_type=JSON).status_code == 201
    response = api.post("/api/contacts", {"phone": phone}, content_type=JSON)
    assert response.status_code == 409
    assert response.json()["field"] == "phone"


def test_patch_changes_only_what_is_sent_and_null_opt_in_means_no_change(api, new_phone):
    created = api.post("/api/contacts", {"phone": new_phone(), "optInSms": True}, content_type=JSON).json()
    response = api.patch(
        f"/api/contacts/{created['contactId']}", {"name": "New Name", "optInSms": None}, content_type=JSON
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "New Name" and body["optInSms"] is True
    assert body["consent"]["sms"]["changedAt"] == created["consent"]["sms"]["changedAt"]


def test_delete_hides_and_get_then_answers_404(api, new_phone):
    created = api.post("/api/contacts", {"phone": new_phone()}, content_type=JSON).json()
    deleted = api.delete(f"/api/contacts/{created['contactId']}")
    assert deleted.status_code == 200 and deleted.json()["deletedAt"]
    assert api.get(f"/api/contacts/{created['contactId']}").status_code == 404


def test_an_admin_restores_through_the_api(client, operator, admin_user, new_phone):
    client.force_login(operator)
    created = client.post("/api/contacts", {"phone": new_phone()}, content_type=JSON).json()
    client.delete(f"/api/contacts/{created['contactId']}")
    assert client.post(f"/api/contacts/{created['contactId']}/restore").status_code == 403
    client.force_login(admin_user)
    response = client.post(f"/api/contacts/{created['contactId']}/restore")
    assert response.status_code == 200 and response.json()["deletedAt"] is None


def test_search_and_list_page_with_cursors(api, new_phone):
    tag = f"apitag{new_phone()[-6:]}"
    for i in range(3):
        api.post("/api/contacts", {"name": f"{tag} {i}", "phone": new_phone()}, content_type=JSON)
    first = api.get("/api/contacts/search", {"q": tag.upper(), "limit": 2}).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = api.get("/api/contacts/search", {"q": tag, "limit": 2, "cursor": first["nextCursor"]}).json()
    assert len(second["items"]) == 1
    assert api.get("/api/contacts", {"limit": 1}).json()["nextCursor"]


def test_a_forged_cursor_is_a_422_not_a_crash(api):
    response = api.get("/api/contacts", {"cursor": "!!not-base64!!"})
    assert response.status_code == 422


def test_the_session_api_needs_the_csrf_token(operator, new_phone):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)
    response = strict.post("/api/contacts", {"phone": new_phone()}, content_type=JSON)
    assert response.status_code == 403
