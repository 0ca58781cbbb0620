"""Welcome and menu replies after an inbound message: through the safety gate, at most once per
cooldown, also when two tasks race or a task is delivered twice."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from messaging.autoreply import config as autoreply_config
from messaging.autoreply.replies import after_inbound, matches_trigger
from messaging.tests.autoreply_fixtures import (
    MENU,
    WELCOME,
    business_number,
    customer,
    event,
    forget_templates,
    marker,
    outbound_messages,
)
from messaging.whatsapp_table import WaMenuConfig, WaWelcomeConfig
from wecare.dynamo import now
from wecare.models import AuditLog
from wecare.tests.at_once import at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def configure(admin_user):
    """Save welcome/menu configs for the first business number; removed afterwards, so other
    tests that run inbound processing see no automatic replies."""

    def save(welcome: dict | None = None, menu: dict | None = None) -> None:
        if welcome is not None:
            autoreply_config.save_welcome(business_number(), {**WELCOME, **welcome}, user=admin_user)
        if menu is not None:
            autoreply_config.save_menu(business_number(), {**MENU, **menu}, user=admin_user)

    yield save
    for model, key in ((WaWelcomeConfig, autoreply_config.welcome_key), (WaMenuConfig, autoreply_config.menu_key)):
        with contextlib.suppress(model.DoesNotExist):
            model.get(key(business_number())).delete()


def run(payload: dict) -> dict:
    return after_inbound.apply(args=[payload]).get()


def test_the_welcome_is_sent_once_on_first_contact(configure, operator, new_phone):
    configure(welcome={})
    contact = customer(operator, new_phone())
    assert run(event(contact, first=True))["welcome"] == "queued"
    [message] = outbound_messages(contact)
    assert message.content == {"text": WELCOME["welcomeText"]}
    assert message.status == "sent" and message.sender == business_number() and message.createdBy == "system"
    request = message.providerRequest[0]["params"]
    assert request["originationPhoneNumberId"] == business_number()
    seen = marker("welcome", contact)
    assert (seen.outcome, seen.detail, seen.notificationType) == ("queued", message.messageId, "welcome")


def test_a_later_message_within_the_cooldown_gets_nothing(configure, operator, new_phone):
    configure(welcome={"onlyOnFirstContact": False, "cooldownHours": 24})
    contact = customer(operator, new_phone())
    first = now() - timedelta(hours=2)
    assert run(event(contact, at=first))["welcome"] == "queued"
    assert run(event(contact, at=first + timedelta(hours=1), first=False))["welcome"] == "cooldown"
    assert len(outbound_messages(contact)) == 1


def test_only_on_first_contact_skips_a_returning_customer(configure, operator, new_phone):
    configure(welcome={"onlyOnFirstContact": True})
    contact = customer(operator, new_phone())
    assert run(event(contact, first=False, new_contact=False))["welcome"] == "not_first_contact"
    assert outbound_messages(contact) == []


def test_after_the_cooldown_the_welcome_goes_again_unless_first_contact_only(configure, operator, new_phone):
    configure(welcome={"onlyOnFirstContact": False, "cooldownHours": 24})
    contact = customer(operator, new_phone())
    long_ago = now() - timedelta(hours=30)
    assert run(event(contact, at=long_ago))["welcome"] == "queued"
    assert run(event(contact, at=long_ago + timedelta(hours=25), first=False))["welcome"] == "queued"
    assert len(outbound_messages(contact)) == 2


def test_the_same_message_delivered_twice_sends_once(configure, operator, new_phone):
    configure(welcome={"cooldownHours": 0})
    contact = customer(operator, new_phone())
    payload = event(contact)
    assert run(payload)["welcome"] == "queued"
    assert run(payload)["welcome"] == "cooldown"  # even with no cooldown: it is the same message
    assert len(outbound_messages(contact)) == 1


def test_without_opt_in_the_welcome_is_refused_and_recorded(configure, operator, new_phone):
    configure(welcome={})
    contact = customer(operator, new_phone(), opted_in=False)
    assert run(event(contact, new_contact=True))["welcome"] == "refused:CONSENT_NEVER_GIVEN"
    assert outbound_messages(contact) == []
    seen = marker("welcome", contact)
    assert (seen.outcome, seen.detail) == ("refused", "CONSENT_NEVER_GIVEN")
    day = now().strftime("%Y-%m-%d")
    refusals = [
        e
        for e in AuditLog.by_day.query(day, filter_condition=AuditLog.resourceId == contact.contactId)
        if e.action == "message.refused"
    ]
    assert [(e.userId, e.details["reason"], e.details["source"]) for e in refusals] == [
        ("system", "CONSENT_NEVER_GIVEN", "welcome")
    ]


def test_two_concurrent_tasks_send_one_welcome(configure, operator, new_phone):
    configure(welcome={})
    contact = customer(operator, new_phone())
    payload = event(contact)
    results = [r["welcome"] for r in at_once(*[lambda: run(payload)] * 4)]
    assert sorted(results) == ["cooldown", "cooldown", "cooldown", "queued"]
    assert len(outbound_messages(contact)) == 1


def test_outside_the_window_with_no_template_the_gate_says_template_required(configure, operator, new_phone):
    from contacts.models import Contact

    configure(welcome={})
    contact = customer(operator, new_phone())
    contact.update(
        actions=[Contact.lastInboundMessageAt.set(now() - timedelta(days=2))]
    )  # e.g. a replay of an old event
    assert run(event(contact, at=now() - timedelta(days=2)))["welcome"] == "refused:TEMPLATE_REQUIRED"
    assert outbound_messages(contact) == []


def test_outside_the_window_the_configured_template_is_sent(request, configure, operator, new_phone, fake_aws_clean):
    from contacts.models import Contact
    from messaging.outbound.template_catalog import sync_templates

    fake_aws_clean.set_templates(
        [
            {
                "templateName": "hello_again",
                "templateStatus": "APPROVED",
                "templateLanguage": "en_US",
                "templateCategory": "UTILITY",
                "components": [{"type": "BODY", "text": "Thanks for writing to us."}],
            }
        ]
    )
    sync_templates()
    request.addfinalizer(lambda: forget_templates("hello_again"))
    configure(welcome={"outsideWindowTemplateName": "hello_again"})
    contact = customer(operator, new_phone())
    contact.update(actions=[Contact.lastInboundMessageAt.set(now() - timedelta(days=2))])
    assert run(event(contact, at=now() - timedelta(days=2)))["welcome"] == "queued"
    [message] = outbound_messages(contact)
    assert message.templateName == "hello_again" and message.status == "sent"


def test_a_disabled_welcome_sends_nothing(configure, operator, new_phone):
    configure(welcome={"enabled": False})
    contact = customer(operator, new_phone())
    assert run(event(contact))["welcome"] == "off"
    assert outbound_messages(contact) == []


def test_the_menu_answers_its_keyword_with_a_list_message(configure, operator, new_phone):
    configure(menu={})
    contact = customer(operator, new_phone())
    assert run(event(contact, text="  Menu! ", first=False))["menu"] == "queued"
    [message] = outbound_messages(contact)
    assert message.status == "sent"
    import base64
    import json

    sent = message.providerRequest[0]["params"]["message"]
    body = json.loads(sent if isinstance(sent, str) else base64.b64decode(sent))
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "How can we help?"},
        "action": {
            "button": "See options",
            "sections": [
                {
                    "title": "Services",
                    "rows": [
                        {"id": "book", "title": "Book a visit", "description": "Pick a time"},
                        {"id": "talk", "title": "Talk to us"},
                    ],
                }
            ],
        },
    }
    assert marker("menu", contact).outcome == "queued"


def test_the_menu_keeps_its_cooldown_and_ignores_other_text(configure, operator, new_phone):
    configure(menu={"cooldownHours": 1})
    contact = customer(operator, new_phone())
    assert run(event(contact, text="what time do you open?", first=False))["menu"] == "no_trigger"
    at = now() - timedelta(minutes=30)
    assert run(event(contact, text="hi", at=at, first=False))["menu"] == "queued"
    assert run(event(contact, text="menu", at=at + timedelta(minutes=10), first=False))["menu"] == "cooldown"
    assert run(event(contact, text="menu", at=at + timedelta(minutes=61), first=False))["menu"] == "queued"
    assert len(outbound_messages(contact)) == 2


def test_welcome_and_menu_both_answer_a_first_hi(configure, operator, new_phone):
    configure(welcome={}, menu={})
    contact = customer(operator, new_phone())
    outcome = run(event(contact, text="Hi"))
    assert (outcome["welcome"], outcome["menu"]) == ("queued", "queued")
    assert sorted(("interactive" in m.content) for m in outbound_messages(contact)) == [False, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("menu", True),
        ("MENU", True),
        (" menu. ", True),
        ("hi there", False),
        ("this is it", False),
        ("", False),
        (None, False),
    ],
)
def test_a_trigger_is_the_whole_message_not_a_word_inside_it(text, expected):
    assert matches_trigger(text, ["menu", "hi"]) is expected


def test_a_malformed_event_is_a_permanent_error():
    from wecare.dlq import PermanentError

    with pytest.raises(PermanentError, match="contactId"):
        after_inbound.run({"waMessageId": "x"})


def test_workers_know_the_task_by_its_agreed_name():
    # Workers load <app>.tasks modules only (messaging.tasks imports the task). A fresh process,
    # since this test module has imported messaging.autoreply.replies itself.
    import os
    import subprocess
    import sys

    from django.conf import settings

    script = (
        "import django; django.setup()\n"
        "from wecare.celery import app\n"
        "app.loader.import_default_modules()\n"
        "task = app.tasks['messaging.after_inbound']\n"
        "print(app.amqp.router.route({}, task.name)['queue'].name, task.max_retries, task.acks_late)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wecare.tests.settings",
        "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, cwd=settings.BASE_DIR
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["default", "3", "True"]


def test_a_send_that_fails_for_another_reason_gives_its_claim_back_and_the_retry_sends(
    configure, operator, new_phone, monkeypatch
):
    """The claim is taken before sending; an error that sent nothing (here the queue publish
    failing once: a seam at send_message, since nothing local can make SQS fail on cue) must not
    leave it behind, or the retry would take its own claim for a cooldown and never greet."""
    import messaging.autoreply.replies as autoreply

    configure(welcome={})
    contact = customer(operator, new_phone())
    real = autoreply.send_message
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("queue unreachable")
        return real(*args, **kwargs)

    monkeypatch.setattr(autoreply, "send_message", fails_once)
    assert run(event(contact, first=True))["welcome"] == "queued"
    assert len(calls) == 2
    [_message] = outbound_messages(contact)
    assert marker("welcome", contact).outcome == "queued"
