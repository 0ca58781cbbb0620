"""Conversation work in the inbox (messaging/inbox/ownership, presence, labels, notes, canned):
what two operators at once see, undo, who else is here, private notes that are never sent,
canned replies' variables, and who may do what. The pages' fragments through the Django client;
the inbox page that includes them is part A's (its browser test is in test_inbox_work_browser.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.template import Context, Template
from django.test import Client

from contacts import actions as contact_actions
from messaging import conversation_index
from messaging.conversation_index import InboxConversation
from messaging.inbox import canned, labels, notes, ownership, presence
from messaging.inbox.presence import Presence
from messaging.tests.inbound_samples import inbound
from messaging.tests.sns_signing import sns_test_certificates  # noqa: F401 - a fixture
from messaging.tests.test_inbound_processing import SUFFIX, deliver
from messaging.whatsapp_table import WaConversation
from wecare.dynamo import now
from wecare.errors import FieldErrors
from wecare.models import AuditLog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]


@pytest.fixture
def priya(django_user_model):
    user = django_user_model.objects.create_user(username="priya", password="pw-priya", first_name="Priya")
    user.groups.add(Group.objects.get_or_create(name="Operator")[0])
    return user


@pytest.fixture
def conv(new_phone) -> InboxConversation:
    """A WhatsApp conversation's inbox item, open and unassigned, as a customer's message leaves it."""
    phone = new_phone()
    key = conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, phone))
    item = InboxConversation(
        key=key,
        channel="whatsapp",
        business="phone-number-id-test",
        customer=phone,
        contactName="Asha Rao",
        lastAt=now().isoformat(),
        lastPreview="Is my order ready?",
        lastDirection="inbound",
    )
    item.save()
    return item


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(conv: InboxConversation, action: str) -> str:
    return f"/dm/work/{conv.key}/{action}/"


def fresh(conv: InboxConversation) -> InboxConversation:
    return ownership.get(conv.key)


# --- ownership and status ------------------------------------------------------------------------


def test_two_operators_assigning_at_once_get_one_winner_and_the_other_is_told_who(conv, operator, priya):
    first = logged_in(priya).post(url(conv, "assign"), {"assignee": "priya", "expected": ""})
    assert first.status_code == 200
    assert "Assigned to you" in first.content.decode() and "Undo" in first.content.decode()
    # Otto's page still shows it unassigned: his "Assign to me" is refused with what happened.
    second = logged_in(operator).post(url(conv, "assign"), {"assignee": operator.username, "expected": ""})
    assert second.status_code == 409
    assert "Priya assigned it to themselves a moment ago" in second.content.decode()
    assert "Assigned to Priya" in second.content.decode()  # drawn over the current state
    assert fresh(conv).assignee == "priya"
    entries = [e for e in AuditLog.scan(AuditLog.resourceId == conv.key) if e.action == "conversation.assign"]
    assert [(e.userId, e.details["assignee"]) for e in entries] == [("priya", "priya")]


def test_assigning_to_someone_who_is_not_staff_is_refused(conv, operator, viewer):
    with pytest.raises(FieldErrors):
        ownership.assign(conv, viewer.username, expected=None, user=operator)
    response = logged_in(operator).post(url(conv, "assign"), {"assignee": "nobody-here", "expected": ""})
    assert response.status_code == 422 and "is not an operator or admin" in response.content.decode()


def test_undo_puts_back_the_assignee_and_the_status_before(conv, operator, priya):
    change = ownership.assign(conv, "priya", expected=None, user=operator)
    back = ownership.undo(conv.key, change.undo_token, user=operator)
    assert back.conversation.assignee is None
    change = ownership.set_status(fresh(conv), "resolved", expected="open", user=operator)
    response = logged_in(operator).post(url(conv, "undo"), {"token": change.undo_token})
    assert response.status_code == 200 and fresh(conv).status == "open"


def test_undo_is_refused_once_someone_changed_it_since(conv, operator, priya):
    change = ownership.set_status(conv, "resolved", expected="open", user=operator)
    ownership.set_status(fresh(conv), "pending", expected="resolved", user=priya)
    response = logged_in(operator).post(url(conv, "undo"), {"token": change.undo_token})
    assert response.status_code == 409
    assert "Not undone: Priya marked it pending a moment ago" in response.content.decode()
    assert fresh(conv).status == "pending"
    mine = ownership.assign(fresh(conv), "priya", expected=None, user=operator)
    ownership.assign(fresh(conv), operator.username, expected="priya", user=priya)
    with pytest.raises(ownership.Changed):
        ownership.undo(conv.key, mine.undo_token, user=operator)
    assert fresh(conv).assignee == operator.username


def test_an_undo_token_is_for_its_own_conversation_only(conv, operator, new_phone):
    change = ownership.set_status(conv, "pending", expected="open", user=operator)
    with pytest.raises(FieldErrors):
        ownership.undo("whatsapp~other~" + new_phone(), change.undo_token, user=operator)
    with pytest.raises(FieldErrors):
        ownership.undo(conv.key, change.undo_token + "x", user=operator)


def test_status_goes_open_pending_resolved_and_a_customer_message_reopens_it(fake_aws, operator, new_phone):
    phone = new_phone()
    deliver(inbound("inbound_text", phone=phone)[0])
    key = conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, phone))
    client = logged_in(operator)
    assert client.post(f"/dm/work/{key}/status/", {"status": "pending", "expected": "open"}).status_code == 200
    response = client.post(f"/dm/work/{key}/status/", {"status": "resolved", "expected": "pending"})
    assert response.status_code == 200 and "Resolved" in response.content.decode()
    assert ownership.get(key).status == "resolved" and ownership.get(key).statusBy == operator.username
    deliver(inbound("inbound_text", phone=phone)[0])  # the customer writes again
    assert ownership.get(key).status == "open"
    stale = client.post(f"/dm/work/{key}/status/", {"status": "resolved", "expected": "resolved"})
    assert stale.status_code == 409  # the page still showed it resolved


def test_a_viewer_sees_the_header_and_may_not_act(conv, viewer):
    client = logged_in(viewer)
    live = client.get(url(conv, "live"))
    assert live.status_code == 200 and "Unassigned" in live.content.decode()
    assert "Assign to me" not in live.content.decode()
    for action, data in [
        ("assign", {"assignee": viewer.username}),
        ("status", {"status": "resolved", "expected": "open"}),
        ("undo", {"token": "x"}),
        ("labels", {"add": "vip"}),
        ("notes", {"text": "hello"}),
    ]:
        assert client.post(url(conv, action), data).status_code == 403, action
    assert fresh(conv).assignee is None and fresh(conv).status == "open"


def test_an_unknown_or_malformed_conversation_is_a_404(operator):
    client = logged_in(operator)
    assert client.get("/dm/work/whatsapp~nope~+15550000000/live/").status_code == 404
    assert client.post("/dm/work/not-a-key/assign/", {"assignee": ""}).status_code == 404


# --- the header's poll and presence -------------------------------------------------------------


def test_the_poll_answers_204_until_something_shown_changes(conv, operator, priya):
    client = logged_in(operator)
    first = client.get(url(conv, "live"))
    seen = first.content.decode().split("seen=")[1].split("&")[0]
    assert client.get(url(conv, "live"), {"seen": seen}).status_code == 204
    ownership.assign(fresh(conv), "priya", expected=None, user=priya)
    changed = client.get(url(conv, "live"), {"seen": seen})
    assert changed.status_code == 200 and "Assigned to Priya" in changed.content.decode()


def test_someone_else_viewing_and_typing_is_shown_and_goes_when_it_expires(conv, operator, priya):
    priya_client, otto_client = logged_in(priya), logged_in(operator)
    assert priya_client.post(url(conv, "presence"), {"typing": "0"}).status_code == 204
    assert otto_client.post(url(conv, "presence"), {"typing": "0"}).status_code == 204
    page = otto_client.get(url(conv, "live")).content.decode()
    assert "Priya is viewing" in page and "otto" not in page.split("work-presence")[1]  # never oneself
    priya_client.post(url(conv, "presence"), {"typing": "1"})
    assert "Priya is typing…" in otto_client.get(url(conv, "live")).content.decode()
    # A page that closed without saying so: its item outlives its expiry (DynamoDB deletes late).
    Presence(conversation=conv.key, username="priya", expiresAt=now() - timedelta(seconds=1)).save()
    assert presence.others(conv.key, operator) == []
    assert "Priya is" not in otto_client.get(url(conv, "live")).content.decode()
    priya_client.post(url(conv, "presence"), {"typing": "0"})
    priya_client.post(url(conv, "presence"), {"leave": "1"})
    assert presence.others(conv.key, operator) == []


def test_the_composer_is_warned_when_a_colleague_replied_since_it_was_opened(conv, operator, priya):
    opened = conv.lastAt
    conv.update(
        actions=[
            InboxConversation.lastAt.set(now().isoformat()),
            InboxConversation.lastDirection.set("outbound"),
            InboxConversation.lastBy.set("priya"),
        ]
    )
    response = logged_in(operator).get(url(conv, "live"), {"opened": opened})
    assert 'data-replied-by="Priya"' in response.content.decode()
    mine = logged_in(priya).get(url(conv, "live"), {"opened": opened})
    assert 'data-replied-by=""' in mine.content.decode()  # her own reply warns nobody of herself


def test_a_persons_send_records_who_sent_it_and_the_platforms_says_system(fake_aws, operator, new_phone):
    from django.conf import settings

    from messaging.outbound.send import send_message

    phone = new_phone()
    contact = contact_actions.create_contact({"phone": phone, "optInWhatsApp": True}, user=operator, source="test")
    deliver(inbound("inbound_text", phone=phone)[0])
    key = conversation_index.key_for_whatsapp(WaConversation.key(SUFFIX, phone))
    request = {"contactId": contact.contactId, "channel": "whatsapp", "sender": settings.WHATSAPP_PHONE_NUMBER_IDS[0]}
    send_message({**request, "text": "On it"}, user=operator, source="test")
    assert ownership.get(key).lastBy == operator.username
    send_message({**request, "text": "Auto"}, user=None, source="test")
    assert ownership.get(key).lastBy == "system"


# --- labels ---------------------------------------------------------------------------------------


def test_labels_are_added_once_removed_and_offered_to_everyone_after(conv, operator):
    client = logged_in(operator)
    assert client.post(url(conv, "labels"), {"add": "  Refund "}).status_code == 200
    client.post(url(conv, "labels"), {"add": "refund"})  # one spelling: no second label
    assert fresh(conv).labels == {"refund"}
    assert "refund" in labels.suggestions()
    response = client.post(url(conv, "labels"), {"add": "no <tags>"})
    assert response.status_code == 422
    client.post(url(conv, "labels"), {"remove": "refund"})
    assert not fresh(conv).labels
    assert "refund" in labels.suggestions()  # still offered


def test_two_people_adding_labels_at_once_never_pass_the_bound(conv, operator, priya):
    for n in range(labels.MAX_LABELS - 1):
        labels.add(fresh(conv), f"l{n}", user=operator)
    mine, theirs = fresh(conv), fresh(conv)  # both pages show 9 labels
    labels.add(mine, "tenth", user=operator)
    with pytest.raises(FieldErrors):
        labels.add(theirs, "eleventh", user=priya)
    assert len(fresh(conv).labels) == labels.MAX_LABELS


# --- private notes ----------------------------------------------------------------------------------


def test_a_private_note_is_in_the_timeline_audited_and_never_sent(conv, operator, fake_aws_clean):
    client = logged_in(operator)
    response = client.post(
        url(conv, "notes"), {"text": "Called her: wants a refund <b>today</b>"}, HTTP_X_WORK_NOTE="1"
    )
    assert response.status_code == 201
    html = response.content.decode()
    assert "Private note" in html and "&lt;b&gt;today&lt;/b&gt;" in html
    [note] = notes.in_range(conv.key, None, None)
    assert (note.author, note.text) == (operator.username, "Called her: wants a refund <b>today</b>")
    assert [n.sk for n in notes.in_range(conv.key, conv.lastAt, now().isoformat())] == [note.sk]
    assert notes.in_range(conv.key, None, "2000-01-01T00:00:00+00:00") == []
    assert fake_aws_clean.calls() == []  # nothing went to any provider
    assert fresh(conv).lastPreview == "Is my order ready?"  # not a message of the conversation
    assert any(e.action == "conversation.note" for e in AuditLog.scan(AuditLog.resourceId == conv.key))
    # Without the page's script the form posts and comes back to the conversation.
    plain = client.post(url(conv, "notes"), {"text": "second"})
    assert plain.status_code == 302 and conv.key in plain["Location"]
    assert client.post(url(conv, "notes"), {"text": "   "}, HTTP_X_WORK_NOTE="1").status_code == 422


def test_notes_are_not_in_the_apis_of_messages(conv, operator, admin_user):
    notes.add(conv.key, "internal: VIP, be nice", user=operator)
    client = logged_in(admin_user)
    for path in ("/api/messages", f"/api/work/{conv.key}"):
        response = client.get(path)
        assert response.status_code == 200 and "internal: VIP" not in response.content.decode(), path
    listed = client.get(f"/api/work/{conv.key}/notes").json()
    assert [n["text"] for n in listed] == ["internal: VIP, be nice"]


def test_the_note_template_draws_what_the_timeline_passes():
    note = notes.Note(conversation="x", sk="2026-01-02T03:04:00+00:00~01J", at="2026-01-02T03:04:00+00:00")
    note.author, note.text = "priya", "line one\nline two"
    html = Template('{% include "messaging/inbox/work/_note.html" %}').render(Context({"note": note}))
    assert "priya" in html and "line one<br>line two" in html and "2 Jan, 03:04" in html


# --- canned replies ---------------------------------------------------------------------------------


def test_canned_variables_are_filled_and_unknown_ones_left_as_written(operator):
    operator.first_name, operator.last_name = "Otto", "Op"
    known = canned.values(contact_name="Asha Rao", agent=operator)
    text = "Hi {{contact.first_name}} ({{ contact.name }}), {{agent.name}} of {{business.name}}. {{order.id}} {{x}}"
    assert canned.render(text, known) == "Hi Asha (Asha Rao), Otto Op of WECARE.DIGITAL. {{order.id}} {{x}}"
    nameless = canned.values(contact_name=None, agent=operator)
    assert canned.render("Hi {{contact.first_name}}", nameless) == "Hi {{contact.first_name}}"
    # An admin's text reaches no template engine: tags and filters are just text.
    assert canned.render("{% debug %}{{ settings.SECRET_KEY }}", known) == "{% debug %}{{ settings.SECRET_KEY }}"


def test_admins_manage_canned_replies_and_the_composer_offers_them_rendered(conv, admin_user, operator):
    admin = logged_in(admin_user)
    created = admin.post(
        "/admin/canned-replies/new/", {"shortcut": "/Hours", "text": "Hi {{contact.first_name}}, 9-5."}
    )
    assert created.status_code == 302
    assert admin.post("/admin/canned-replies/new/", {"shortcut": "hours", "text": "again"}).status_code == 422
    bad = admin.post("/admin/canned-replies/new/", {"shortcut": "x", "text": "{{contact.phone}}"})
    assert bad.status_code == 422 and "Unknown variable" in bad.content.decode()
    assert (
        admin.post("/admin/canned-replies/hours/", {"text": "Hello {{contact.first_name}}, 9 to 5."}).status_code == 302
    )
    assert "/hours" in admin.get("/admin/canned-replies/").content.decode()
    assert logged_in(operator).get("/admin/canned-replies/").status_code == 403
    html = Template('{% include "messaging/inbox/work/_composer_tools.html" %}').render(
        Context({"conv": conv, "conv_key": conv.key, "user": operator, "can_act": True})
    )
    assert 'data-shortcut="hours"' in html and 'data-text="Hello Asha, 9 to 5."' in html
    assert 'form="work-note-form"' in html  # the note's controls are outside the reply form
    assert admin.post("/admin/canned-replies/hours/delete/").status_code == 302
    assert canned.all_replies() == []


def test_the_header_partial_draws_for_the_inbox_page_with_its_slot_context(conv, operator, viewer):
    template = Template('{% include "messaging/inbox/work/_conversation_header.html" %}')
    html = template.render(Context({"conv": conv, "conv_key": conv.key, "user": operator, "can_act": True}))
    assert 'id="work-header"' in html and "Assign to me" in html and 'id="work-note-form"' in html
    assert f'name="assignee" value="{operator.username}"' in html  # "Assign to me" names the person
    assert "js/inbox-work.js" in html and "<style" not in html and " style=" not in html
    html = template.render(Context({"conv": conv, "conv_key": conv.key, "user": viewer, "can_act": False}))
    assert "Assign to me" not in html and "work-note-form" not in html


# --- the API --------------------------------------------------------------------------------------


def test_the_api_assigns_with_the_same_race_rule_and_refuses_viewers(conv, operator, priya, viewer):
    path = f"/api/work/{conv.key}"
    won = logged_in(priya).post(
        f"{path}/assign", {"assignee": "priya", "expected": None}, content_type="application/json"
    )
    assert won.status_code == 200 and won.json()["conversation"]["assignee"] == "priya"
    lost = logged_in(operator).post(
        f"{path}/assign", {"assignee": operator.username, "expected": None}, content_type="application/json"
    )
    assert lost.status_code == 409 and lost.json()["detail"] == "Priya assigned it to themselves a moment ago"
    undone = logged_in(priya).post(f"{path}/undo", {"token": won.json()["undoToken"]}, content_type="application/json")
    assert undone.status_code == 200 and undone.json()["conversation"]["assignee"] is None
    labelled = logged_in(operator).post(f"{path}/labels", {"add": ["VIP"]}, content_type="application/json")
    assert labelled.json()["labels"] == ["vip"]
    client = logged_in(viewer)
    assert client.get(path).json()["labels"] == ["vip"]
    for action, body in [("assign", {"assignee": None, "expected": None}), ("notes", {"text": "x"})]:
        assert client.post(f"{path}/{action}", body, content_type="application/json").status_code == 403
