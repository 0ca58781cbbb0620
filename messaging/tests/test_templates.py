"""Templates: synced from the provider (paged), only APPROVED offered, parameters checked."""

import pytest

from messaging.outbound import template_catalog
from messaging.whatsapp_table import WaTemplate
from wecare.errors import FieldErrors

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(fake_aws_clean):
    counts = template_catalog.sync_templates()
    assert counts["templates"] >= 1
    return fake_aws_clean


def test_sync_copies_every_template_into_template_eum_items(synced):
    listed = list(synced.calls("ListWhatsAppMessageTemplates"))
    fetched = synced.calls("GetWhatsAppMessageTemplate")
    # Other tests put templates of other accounts in the session's catalog: count the synced ones.
    synced_wabas = {c["params"]["id"] for c in listed}
    items = [
        t
        for t in WaTemplate.item_type_index.query("TEMPLATE_EUM")
        if isinstance(t, WaTemplate) and t.wabaId in synced_wabas
    ]
    assert listed and len(fetched) == len({(t.wabaId, t.templateName, t.templateLanguage) for t in items})
    sample = items[0]
    assert sample.pk == f"TEMPLATE_EUM#{sample.wabaId}#{sample.templateName}#{sample.templateLanguage}"
    assert sample.components


def test_only_approved_templates_are_offered(synced):
    offered = template_catalog.approved_templates()
    assert offered and all(t.templateStatus == "APPROVED" for t in offered)
    everything = [t for t in WaTemplate.item_type_index.query("TEMPLATE_EUM") if isinstance(t, WaTemplate)]
    assert any(t.templateStatus != "APPROVED" for t in everything), "the fake seeds a non-approved template"


def test_parameters_must_fit_the_templates_components(synced):
    template = next(
        t for t in template_catalog.approved_templates() if template_catalog.expected_parameters(t)["body"] >= 1
    )
    needed = template_catalog.expected_parameters(template)
    with pytest.raises(FieldErrors) as caught:
        template_catalog.validate(template.templateName, template.templateLanguage, {"body": []})
    assert "template.parameters.body" in caught.value.errors
    params = {
        "body": ["x"] * needed["body"],
        "header": ["h"] * needed["header"],
        "buttons": [["b"] * n for n in needed["buttons"]],
    }
    assert (
        template_catalog.validate(template.templateName, template.templateLanguage, params).templateName
        == template.templateName
    )


def test_a_template_send_outside_the_window_goes_through(synced, client_for, operator, new_phone):
    from contacts import actions
    from messaging.models import Message

    template = next(t for t in template_catalog.approved_templates())
    needed = template_catalog.expected_parameters(template)
    contact = actions.create_contact({"phone": new_phone(), "optInWhatsApp": True}, user=operator, source="test")
    payload = {
        "contactId": contact.contactId,
        "channel": "whatsapp",
        "template": {
            "name": template.templateName,
            "language": template.templateLanguage,
            "parameters": {
                "body": ["v"] * needed["body"],
                "header": ["h"] * needed["header"],
                "buttons": [["b"] * n for n in needed["buttons"]],
            },
        },
    }
    response = client_for(operator).post("/api/messages", payload, content_type="application/json")
    assert response.status_code == 202, response.content
    message = Message.get(response.json()["messageId"], consistent_read=True)
    assert message.status == "sent" and message.templateName == template.templateName


def test_an_unknown_template_is_a_field_error(synced):
    with pytest.raises(FieldErrors):
        template_catalog.validate("no_such_template", "en_US", {})
