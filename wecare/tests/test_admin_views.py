import pytest

from contacts import actions

pytestmark = pytest.mark.django_db


def test_an_admin_browses_todays_audit_trail(client_for, admin_user, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone()}, user=operator, source="test")
    response = client_for(admin_user).get("/admin/dynamo/audit/")
    assert response.status_code == 200
    assert contact.contactId in response.content.decode()


def test_system_config_refuses_invalid_json_and_keeps_the_old_value(client_for, admin_user):
    from wecare.models import SystemConfig

    admin = client_for(admin_user)
    assert admin.post("/admin/dynamo/config/", {"configKey": "aiAutomation", "configValue": "true"}).status_code == 302
    response = admin.post("/admin/dynamo/config/", {"configKey": "aiAutomation", "configValue": "{oops"})
    assert response.status_code == 422 and "not valid JSON" in response.content.decode()
    assert SystemConfig.get("aiAutomation").configValue is True


def test_the_contacts_table_view_shows_deleted_contacts_too(client_for, admin_user, operator, new_phone):
    contact = actions.create_contact({"phone": new_phone(), "name": "Deleted Dana"}, user=operator, source="test")
    actions.delete_contact(contact.contactId, user=operator)
    # the table is small in tests; page until found
    admin = client_for(admin_user)
    url, seen = "/admin/dynamo/contacts/", ""
    for _ in range(50):
        response = admin.get(url)
        seen = response.content.decode()
        if contact.contactId in seen or "Next page" not in seen:
            break
        url = "/admin/dynamo/contacts/" + seen.split('href="?cursor=')[1].split('"')[0].join(["?cursor=", ""])
    assert contact.contactId in seen


def test_a_forged_cursor_on_the_contacts_table_starts_over(client_for, admin_user):
    import base64
    import json

    forged = base64.urlsafe_b64encode(json.dumps({"contactId": "x"}).encode()).decode().rstrip("=")
    response = client_for(admin_user).get(f"/admin/dynamo/contacts/?cursor={forged}")
    assert response.status_code == 302 and response["Location"].endswith("/admin/dynamo/contacts/")
