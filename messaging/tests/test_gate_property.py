"""The first promise, as a property: over generated contact state x channel x sender x window x
template x tier, the provider receives a call if and only if every rule allows it, and every
refusal carries the right reason code.

Runs LIVE against the local fake (WhatsApp, SMS) and moto (SES) over HTTP, through
``send.dispatch``, the function the worker sends every message through.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts.models import Contact
from messaging.models import Message
from messaging.outbound import send
from messaging.outbound.gate import Reason
from wecare.dynamo import now
from wecare.tests.hypothesis_profiles import examples

OFF_LIST = {
    "whatsapp": "phone-number-id-00000000000000000000000000000000",
    "sms": "pool-00000000000000000000000000000000",
    "email": "someone@elsewhere.example",
}


def allowlisted(channel: str) -> list[str]:
    return {
        "whatsapp": settings.WHATSAPP_PHONE_NUMBER_IDS,
        "sms": [settings.SMS_POOL_ID],
        "email": [settings.SES_SENDER_EMAIL],
    }[channel]


cases = st.fixed_dictionaries(
    {
        "deleted": st.booleans(),
        "phone": st.booleans(),
        "email": st.booleans(),
        "opt_in": st.fixed_dictionaries({"whatsapp": st.booleans(), "sms": st.booleans(), "email": st.booleans()}),
        # None: never wrote; else minutes since their last message (24 h = 1440)
        "last_inbound_minutes": st.one_of(st.none(), st.integers(min_value=0, max_value=3000)),
        "channel": st.sampled_from(["whatsapp", "sms", "email"]),
        "sender_ok": st.booleans(),
        "sender_index": st.integers(min_value=0, max_value=1),
        "template": st.booleans(),
        "tier_room": st.booleans(),
    }
)


def expected(case: dict) -> Reason | None:
    """The rules as the requirements state them, written apart from the gate."""
    channel = case["channel"]
    if case["deleted"]:
        return Reason.CONTACT_DELETED
    if not (case["email"] if channel == "email" else case["phone"]):
        return Reason.NO_ADDRESS
    if not case["opt_in"][channel]:
        return Reason.CONSENT_NEVER_GIVEN
    if not case["sender_ok"]:
        return Reason.SENDER_NOT_ALLOWLISTED
    if channel == "whatsapp":
        minutes = case["last_inbound_minutes"]
        in_window = minutes is not None and minutes < 24 * 60
        if not in_window and not case["template"]:
            return Reason.TEMPLATE_REQUIRED
        if not in_window and not case["tier_room"]:
            return Reason.TIER_LIMIT
    return None


def build(case: dict) -> tuple[Contact, Message]:
    at = now()
    minutes = case["last_inbound_minutes"]
    contact = Contact(
        contactId="prop",
        phone="+14155552671" if case["phone"] else None,
        email="prop@example.com" if case["email"] else None,
        optInWhatsApp=case["opt_in"]["whatsapp"],
        optInSms=case["opt_in"]["sms"],
        optInEmail=case["opt_in"]["email"],
        lastInboundMessageAt=None if minutes is None else at - timedelta(minutes=minutes, seconds=30),
        createdAt=at,
        updatedAt=at,
        deletedAt=at if case["deleted"] else None,
    )
    channel = case["channel"]
    senders = allowlisted(channel)
    sender = senders[case["sender_index"] % len(senders)] if case["sender_ok"] else OFF_LIST[channel]
    is_template = channel == "whatsapp" and case["template"]
    content = (
        {"template": {"name": "order_update", "language": "en_US", "parameters": {"body": ["A-1"]}}}
        if is_template
        else {"text": "Hello"}
    )
    if channel == "email":
        content["subject"] = "Hello"
    message = Message(
        messageId="prop-message",
        contactId="prop",
        channel=channel,
        direction="outbound",
        content=content,
        timestamp=at,
        status="sending",
        sender=sender,
        templateName="order_update" if is_template else None,
    )
    return contact, message


def ses_sent() -> int:
    from moto.ses.models import ses_backends

    return len(ses_backends[settings.AWS_ACCOUNT_ID][settings.AWS_REGION].sent_messages)


@pytest.fixture
def live(settings, fake_aws):
    settings.SEND_MODE = "LIVE"
    return fake_aws


@pytest.mark.django_db
def test_the_provider_is_called_if_and_only_if_every_rule_allows(live):
    reserved: list[tuple[str, str]] = []

    @hypothesis_settings(
        max_examples=examples(10_000),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        derandomize=True,
    )
    @given(case=cases)
    def run(case: dict) -> None:
        contact, message = build(case)
        before_fake, before_ses = len(live.calls()), ses_sent()
        outcome = send.dispatch(
            contact, message, tier_allows=lambda phone: case["tier_room"], reserve=lambda c, s: reserved.append((c, s))
        )  # None: no token deadline
        provider_calls = (len(live.calls()) - before_fake) + (ses_sent() - before_ses)
        want = expected(case)
        assert outcome.verdict.reason == want
        if want is None:
            assert outcome.error is None, outcome.error and outcome.error.details
            assert provider_calls == 1
        else:
            assert provider_calls == 0 and outcome.result is None

    run()
    assert reserved, "allowed sends reserve rate tokens first"
