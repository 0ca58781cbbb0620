"""The first promise, as a property: over generated contact state (each channel's consent: opted
in, never given, withdrawn by each source, suppressed by each provider signal, opted in again,
records older than the reasons, malformed values) x channel x sender x window x template x tier x
purpose (an ordinary message or the confirmation of a customer's opt-out, at its age), the
provider receives a call if and only if every rule allows it, and every refusal carries the right
reason code.

Runs LIVE against the local fake (WhatsApp, SMS) and moto (SES) over HTTP, through
``send.dispatch``, the function the worker sends every message through.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts.models import Consent, Contact
from messaging.models import Message
from messaging.outbound import send
from messaging.outbound.gate import Allowance, Reason
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


# A channel's consent state: (what happened, by which source). Each is built below as the path
# that makes it writes it: the opt-in and the contact's record of its last change.
CONSENT_STATES = [
    ("opted_in", "operator"),
    ("opted_in", None),  # written in bulk: the opt-in without a record
    ("never", None),  # no record: never set
    ("never", "operator"),  # created with the opt-in false on a page
    ("never", "import"),  # created with it false by a CSV import
    *[
        ("withdrawn", source)
        for source in ("operator", "api", "import", "keyword", "template_button", "unsubscribe_link")
    ],
    *[("suppressed", source) for source in ("bounce", "complaint", "sms_optout_list")],
    ("reopted", "keyword"),  # withdrew, then wrote START
    ("reopted", "operator"),  # withdrew, then a person recorded new consent
    ("legacy", "at_creation"),  # a record without how/wasOptedIn, written when the contact was created
    ("legacy", "later"),  # ... written by a later edit
    ("malformed", None),  # the opt-in is missing or not a boolean
]
consent_state = st.sampled_from(CONSENT_STATES)

cases = st.fixed_dictionaries(
    {
        "deleted": st.booleans(),
        "phone": st.booleans(),
        "email": st.booleans(),
        "consent": st.fixed_dictionaries({"whatsapp": consent_state, "sms": consent_state, "email": consent_state}),
        # minutes since the last consent change of each channel (the confirmation's window is 10)
        "change_minutes": st.integers(min_value=0, max_value=20),
        "confirmation": st.booleans(),  # Purpose.CONSENT_CONFIRMATION rather than an ordinary message
        # None: never wrote; else minutes since their last message (24 h = 1440)
        "last_inbound_minutes": st.one_of(st.none(), st.integers(min_value=0, max_value=3000)),
        "channel": st.sampled_from(["whatsapp", "sms", "email"]),
        "sender_ok": st.booleans(),
        "sender_index": st.integers(min_value=0, max_value=1),
        "template": st.booleans(),
        "tier_room": st.booleans(),
    }
)


CUSTOMER_SOURCES = {"keyword", "template_button", "unsubscribe_link"}
PROVIDER_SOURCES = {"bounce", "complaint", "sms_optout_list"}


def consent_refusal(case: dict) -> Reason | None:
    """The consent rule as the issue states it: allowed iff opted in, else the reason; the one
    exception is the WhatsApp confirmation of the customer's own keyword or button opt-out,
    less than 10 minutes after it, inside the 24-hour window."""
    channel = case["channel"]
    kind, source = case["consent"][channel]
    if kind in ("opted_in", "reopted"):
        return None
    minutes = case["last_inbound_minutes"]
    in_window = minutes is not None and minutes < 24 * 60
    confirmable = source in ("keyword", "template_button") and case["change_minutes"] < 10 and in_window
    if kind == "withdrawn" and case["confirmation"] and channel == "whatsapp" and confirmable:
        return None
    if kind == "withdrawn" or (kind, source) == ("legacy", "later"):
        return Reason.CONSENT_WITHDRAWN
    if kind == "suppressed":
        return Reason.SUPPRESSED
    return Reason.CONSENT_NEVER_GIVEN


def by_exception(case: dict) -> bool:
    """Allowed only by the confirmation's exception (its opt-in is off)."""
    return case["consent"][case["channel"]][0] == "withdrawn" and consent_refusal(case) is None


def confirmation_case(state: tuple[str, str | None], *, minutes: int) -> dict:
    """A WhatsApp confirmation to a reachable contact inside their window, ``minutes`` after ``state``."""
    return {
        "deleted": False,
        "phone": True,
        "email": True,
        "consent": {"whatsapp": state, "sms": ("never", None), "email": ("opted_in", "operator")},
        "change_minutes": minutes,
        "confirmation": True,
        "last_inbound_minutes": 0,
        "channel": "whatsapp",
        "sender_ok": True,
        "sender_index": 0,
        "template": False,
        "tier_room": True,
    }


def expected(case: dict) -> Reason | None:
    """The rules as the requirements state them, written apart from the gate."""
    channel = case["channel"]
    if case["deleted"]:
        return Reason.CONTACT_DELETED
    if not (case["email"] if channel == "email" else case["phone"]):
        return Reason.NO_ADDRESS
    if (refusal := consent_refusal(case)) is not None:
        return refusal
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


ACTOR = {"keyword": "customer", "template_button": "customer", "unsubscribe_link": "customer"} | dict.fromkeys(
    PROVIDER_SOURCES, "provider"
)
EVIDENCE = {
    "keyword": {"messageId": "wamid.P1", "keyword": "STOP"},
    "template_button": {"messageId": "wamid.P2", "button": "Stop promotions"},
    "unsubscribe_link": {"linkId": "L-1"},
    "bounce": {"feedbackId": "fb-1"},
    "complaint": {"feedbackId": "fb-2"},
    "sms_optout_list": {"number": "+14155552671"},
    "import": {"importId": "IMP1"},
}
DETAIL = {"operator": "page", "import": "csv:IMP1"}


def consent_of(state: tuple[str, str | None], created: datetime, changed: datetime) -> tuple[object, Consent | None]:
    """The opt-in and the record of its last change, as the path that makes ``state`` writes them."""
    kind, source = state
    if kind == "malformed":
        return None, None
    if source is None:
        return kind == "opted_in", None
    if kind == "legacy":
        at = created if source == "at_creation" else changed
        return False, Consent(changedBy="alice", changedAt=at, source="page")
    opted_in = kind in ("opted_in", "reopted")
    record = Consent(
        changedBy=ACTOR.get(source, "alice"),
        changedAt=created if kind in ("never", "opted_in") else changed,
        source=DETAIL.get(source, source),
        how=source,
        wasOptedIn=kind in ("withdrawn", "suppressed"),
        evidence={"keyword": "START"} if kind == "reopted" else EVIDENCE.get(source),
    )
    return opted_in, record


def build(case: dict) -> tuple[Contact, Message]:
    at = now()
    minutes = case["last_inbound_minutes"]
    created = at - timedelta(days=30)
    changed = at - timedelta(minutes=case["change_minutes"], seconds=30)
    consent = {channel: consent_of(state, created, changed) for channel, state in case["consent"].items()}
    contact = Contact(
        contactId="prop",
        phone="+14155552671" if case["phone"] else None,
        email="prop@example.com" if case["email"] else None,
        optInWhatsApp=consent["whatsapp"][0],
        optInSms=consent["sms"][0],
        optInEmail=consent["email"][0],
        consentWhatsApp=consent["whatsapp"][1],
        consentSms=consent["sms"][1],
        consentEmail=consent["email"][1],
        lastInboundMessageAt=None if minutes is None else at - timedelta(minutes=minutes, seconds=30),
        createdAt=created,
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
        purpose="CONSENT_CONFIRMATION" if case["confirmation"] else None,
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
    # The confirmation's edges, always run whatever the profile's count: allowed 9 minutes after
    # the customer's STOP, refused at 10, refused when an operator turned it off.
    @example(case=confirmation_case(("withdrawn", "keyword"), minutes=9))
    @example(case=confirmation_case(("withdrawn", "template_button"), minutes=10))
    @example(case=confirmation_case(("withdrawn", "operator"), minutes=0))
    def run(case: dict) -> None:
        contact, message = build(case)
        before_fake, before_ses = live.call_count(), ses_sent()
        outcome = send.dispatch(
            contact, message, tier_allows=lambda phone: case["tier_room"], reserve=lambda c, s: reserved.append((c, s))
        )  # None: no token deadline
        provider_calls = (live.call_count() - before_fake) + (ses_sent() - before_ses)
        want = expected(case)
        assert outcome.verdict.reason == want
        allowance = Allowance.CONSENT_CONFIRMATION if want is None and by_exception(case) else None
        assert outcome.verdict.allowance == allowance
        if want is None:
            assert outcome.error is None, outcome.error and outcome.error.details
            assert provider_calls == 1
        else:
            assert provider_calls == 0 and outcome.result is None

    run()
    assert reserved, "allowed sends reserve rate tokens first"
