"""POST /webhooks/sns/: what gets through SNS verification, and what the webhook does with it.

Envelopes are signed like SNS signs them, with a test key whose self-signed certificate the test
loader hands out for any URL (messaging/tests/sns_signing.py); the SigningCertURL rules stay on.
One test has moto's own SNS deliver over HTTP to a live server, signed with moto's certificate.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from kombu.exceptions import OperationalError

from localaws.sns_certs import LOCAL_STACK_LOADER
from messaging.inbound import sns, sns_certs
from messaging.inbound.process import process_inbound_event
from messaging.inbound.routing import TASKS, classify
from messaging.inbound.statuses import RECORDING_GRACE
from messaging.inbound.webhook import MAX_BODY_BYTES
from messaging.models import Message
from messaging.tests import inbound_samples, sns_signing
from messaging.tests.sns_signing import (
    CERT_URL,
    attacker,
    confirmation,
    notification,
    sample,
    sample_names,
    sns_signer,
    sns_test_certificates,  # noqa: F401 - a fixture, used through pytestmark
    sns_timestamp,
)
from messaging.whatsapp_table import WaMessage
from wecare import dlq
from wecare.alerts import Kind, raise_alert
from wecare.aws import client as aws_client
from wecare.tests.hypothesis_profiles import examples

pytestmark = pytest.mark.usefixtures("sns_test_certificates")
URL = "/webhooks/sns/"
SAMPLES = sample_names()
# What CloudWatch publishes when an alarm changes state (fixtures/aws/README.md names the source).
CLOUDWATCH_ALARM = Path(__file__).parent / "fixtures" / "aws" / "cloudwatch_alarm.json"


@pytest.fixture
def topic(settings) -> str:
    return settings.SNS_TOPIC_ARN


@pytest.fixture
def handed_off():
    """A seam: the inbound task's ``delay`` is replaced by a recorder, because these tests are
    about what the webhook lets through and hands over, not about processing (which the
    inbound tests, and the end-to-end test below, run for real)."""
    with mock.patch.object(process_inbound_event, "delay") as delay:
        yield delay


def post(client, body: object, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    # SNS posts JSON labelled text/plain.
    return client.post(URL, data=data, content_type="text/plain; charset=UTF-8", **extra)


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("name", SAMPLES)
def test_it_hands_every_signed_sample_to_the_inbound_task(client, topic, handed_off, name, version):
    envelope = notification(sample(name), topic_arn=topic, version=version)

    response = post(client, envelope)

    assert response.status_code == 200
    handed_off.assert_called_once_with(message=sample(name), sns_message_id=envelope["MessageId"])


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_subject_is_part_of_what_is_signed(client, topic, handed_off, version):
    envelope = notification(sample("inbound_text.json"), topic_arn=topic, subject="WhatsApp event", version=version)
    assert post(client, envelope).status_code == 200

    without_subject = {k: v for k, v in envelope.items() if k != "Subject"}
    other_subject = {**envelope, "Subject": "Something else"}
    assert post(client, without_subject).status_code == 403
    assert post(client, other_subject).status_code == 403
    assert handed_off.call_count == 1


def test_a_subscription_confirmation_for_the_topic_is_confirmed_through_the_sns_api(client, topic):
    sns_client, confirmed = aws_client("sns"), []

    def record(params, **_):
        confirmed.append(params)

    # Observes the real ConfirmSubscription call (it still goes to moto) without changing it.
    sns_client.meta.events.register("provide-client-params.sns.ConfirmSubscription", record)
    try:
        response = post(client, confirmation("SubscriptionConfirmation", topic_arn=topic, token="tok-42"))
    finally:
        sns_client.meta.events.unregister("provide-client-params.sns.ConfirmSubscription", record)

    assert response.status_code == 200
    assert response.json() == {"status": "confirmed"}
    assert confirmed == [{"TopicArn": topic, "Token": "tok-42"}]


def test_an_unsubscribe_confirmation_is_logged_and_answered_200(client, topic, handed_off, caplog):
    with caplog.at_level("WARNING", logger="messaging.sns"):
        response = post(client, confirmation("UnsubscribeConfirmation", topic_arn=topic))

    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name == "messaging.sns"] == ["sns subscription removed"]
    handed_off.assert_not_called()


# --- refused ----------------------------------------------------------------------------------


def test_a_forged_notification_gets_403_one_log_line_and_is_never_handed_on(client, topic, handed_off, caplog):
    forged = notification(sample("inbound_text.json"), topic_arn=topic, signer=attacker())

    with caplog.at_level("INFO", logger="messaging.sns"):
        response = post(client, forged)

    assert response.status_code == 403
    assert response.json()["code"] == "UNVERIFIED"
    lines = [r for r in caplog.records if r.name == "messaging.sns"]
    assert len(lines) == 1
    assert (lines[0].reason, lines[0].snsMessageId, lines[0].topicArn) == (
        "signature does not match",
        forged["MessageId"],
        topic,
    )
    handed_off.assert_not_called()


def test_a_correctly_signed_message_for_another_topic_is_refused(client, handed_off):
    other = "arn:aws:sns:us-east-1:123456789012:someone-elses-topic"
    assert post(client, notification(sample("inbound_text.json"), topic_arn=other)).status_code == 403
    assert post(client, confirmation("SubscriptionConfirmation", topic_arn=other)).status_code == 403
    handed_off.assert_not_called()


OTHER_TOPICS = {
    "SMS_INBOUND_TOPIC_ARN": ("sms_inbound_two_way.json", "process_sms_inbound"),
    "SMS_EVENTS_TOPIC_ARN": ("sms_event_text_successful.json", "process_sms_event"),
    "SES_EVENTS_TOPIC_ARN": ("ses_event_bounce_permanent.json", "process_email_event"),
    "SES_INBOUND_TOPIC_ARN": ("ses_received_s3_action.json", "process_email_inbound"),
}


@pytest.mark.parametrize("setting", OTHER_TOPICS)
def test_the_sms_and_ses_topics_are_accepted_when_configured_and_each_kind_goes_to_its_task(client, settings, setting):
    fixture, task_name = OTHER_TOPICS[setting]
    topic_arn = f"arn:aws:sns:us-east-1:123456789012:{setting.lower()}"
    body = (Path(__file__).parent / "fixtures" / "aws" / fixture).read_text()
    assert post(client, notification(body, topic_arn=topic_arn)).status_code == 403  # not configured yet
    setattr(settings, setting, topic_arn)
    task = TASKS[classify(body)]
    assert task.__name__ == task_name
    with mock.patch.object(task, "delay") as delay:
        assert post(client, notification(body, topic_arn=topic_arn)).status_code == 200
    delay.assert_called_once()
    assert delay.call_args.kwargs["message"] == body


@pytest.mark.parametrize("offset", [timedelta(minutes=61), timedelta(days=3), -timedelta(minutes=61)])
def test_a_message_signed_more_than_an_hour_from_now_is_refused(client, topic, handed_off, offset):
    signed_then = notification(
        sample("inbound_text.json"), topic_arn=topic, timestamp=sns_timestamp(datetime.now(UTC) - offset)
    )

    assert post(client, signed_then).status_code == 403
    with pytest.raises(sns.Unverified, match="more than an hour"):
        sns.verify(signed_then)
    handed_off.assert_not_called()


@pytest.mark.parametrize(
    "cert_url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",  # not https
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example/x.pem",
        "https://evil.example#@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-x.pem",
        "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/x.pem",
        "https://x.sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.txt",
        "https://sns.us-east-1.amazonaws.com/x.pem?redirect=https://evil.example/x.pem",
        "https://sns.us-east-1.amazonaws.com/",
        "file:///etc/ssl/certs/x.pem",
        "",
    ],
)
def test_a_signing_cert_url_sns_could_not_have_issued_is_refused(client, topic, handed_off, cert_url):
    # SigningCertURL is not signed, so the signature stays valid: only the URL rule stops this.
    envelope = {**notification(sample("inbound_text.json"), topic_arn=topic), "SigningCertURL": cert_url}

    assert post(client, envelope).status_code == 403
    handed_off.assert_not_called()


@pytest.mark.parametrize("kind", ["Notification", "SubscriptionConfirmation"])
def test_a_missing_field_is_refused(client, topic, handed_off, kind):
    envelope = (
        notification(sample("inbound_text.json"), topic_arn=topic)
        if kind == "Notification"
        else confirmation(kind, topic_arn=topic)
    )
    required = [f for f in sns.SIGNED_FIELDS[kind] if f != "Subject"] + [
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
    ]
    for field in required:
        without = {k: v for k, v in envelope.items() if k != field}
        with pytest.raises(sns.Unverified):
            sns.verify(without)
        assert post(client, without).status_code == 403, field
    handed_off.assert_not_called()


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'"Notification"', b"{}", b'{"Type": "Notification"}'])
def test_a_body_that_is_not_an_sns_envelope_is_refused(client, handed_off, body):
    assert post(client, body).status_code == 403
    handed_off.assert_not_called()


def test_a_body_over_the_limit_is_413(client, topic, handed_off):
    envelope = notification("x" * (MAX_BODY_BYTES + 1), topic_arn=topic)

    assert post(client, envelope).status_code == 413
    handed_off.assert_not_called()


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_is_allowed(client, method):
    assert getattr(client, method)(URL).status_code == 405


def test_a_queue_failure_answers_503_so_sns_retries(client, topic, handed_off):
    handed_off.side_effect = OperationalError("SQS unreachable")

    response = post(client, notification(sample("inbound_text.json"), topic_arn=topic))

    assert response.status_code == 503
    assert handed_off.call_count == 1


def test_deployed_environments_refuse_any_certificate_loader_but_aws(settings, topic):
    settings.IS_PRODUCTION_LIKE = True
    with pytest.raises(ImproperlyConfigured, match="SNS_CERT_LOADER"):
        sns.verify(notification(sample("inbound_text.json"), topic_arn=topic))
    settings.SNS_CERT_LOADER = sns_certs.AWS_LOADER
    sns_certs.check_cert_url(CERT_URL)  # the loader that would then run is the real HTTPS fetch


# --- the certificate cache ------------------------------------------------------------------------

LOADS: list[str] = []


def counting_loader(url: str) -> bytes:
    LOADS.append(url)
    return sns_signing.load_test_certificate(url)


def unreachable_loader(url: str) -> bytes:
    LOADS.append(url)
    raise ConnectionError("certificate host unreachable")


def test_a_certificate_is_fetched_once_and_then_served_from_the_cache(client, settings, topic, handed_off):
    settings.SNS_CERT_LOADER = "messaging.tests.test_sns_webhook.counting_loader"
    LOADS.clear()

    statuses = [post(client, notification(sample("inbound_text.json"), topic_arn=topic)).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert LOADS == [CERT_URL]


def test_an_unreachable_certificate_refuses_the_message_and_is_fetched_once_a_minute_at_most(
    client, settings, topic, handed_off, monkeypatch
):
    settings.SNS_CERT_LOADER = "messaging.tests.test_sns_webhook.unreachable_loader"
    monkeypatch.setattr(sns_certs, "FAILURE_CACHE_SECONDS", 1)
    LOADS.clear()
    envelope = notification(sample("inbound_text.json"), topic_arn=topic)

    assert [post(client, envelope).status_code for _ in range(3)] == [403, 403, 403]
    assert LOADS == [CERT_URL]  # the failure is remembered: one blocking fetch, not one per message
    with pytest.raises(sns.Unverified, match="signing certificate unavailable"):
        sns.verify(envelope)
    time.sleep(1.1)  # once the failure is forgotten, the next message tries again
    assert post(client, envelope).status_code == 403
    assert LOADS == [CERT_URL, CERT_URL]
    handed_off.assert_not_called()


@pytest.mark.parametrize(
    "cert_url",
    [
        # no such region
        "https://sns.evil.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.us-east-9.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        # China is .com.cn
        "https://sns.cn-north-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com.cn/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com/anything.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-notahexname.pem",
        "https://sns.us-east-1.amazonaws.com/a/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-.pem",
        # AWS names its certificates by 32 hex digits: any other length is a new name to fetch
        # each time, which would get around the cache of failed fetches.
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef0.pem",
    ],
)
def test_a_cert_url_outside_real_regions_and_names_is_refused_without_a_fetch(settings, cert_url):
    settings.SNS_CERT_LOADER = "messaging.tests.test_sns_webhook.counting_loader"
    LOADS.clear()

    with pytest.raises(sns_certs.CertificateRefused):
        sns_certs.signing_key(cert_url, datetime.now(UTC))
    assert LOADS == []


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
        "https://sns.ap-south-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
    ],
)
def test_a_cert_url_in_a_real_region_is_fetched(settings, cert_url):
    settings.SNS_CERT_LOADER = "messaging.tests.test_sns_webhook.counting_loader"
    LOADS.clear()

    sns_certs.signing_key(cert_url, datetime.now(UTC))
    assert LOADS == [cert_url]  # noqa: SIM300 - LOADS is what the loader recorded, not a constant


def test_the_cache_holds_a_bounded_number_of_certificates(settings):
    settings.SNS_CERT_LOADER = "messaging.tests.test_sns_webhook.counting_loader"
    at = datetime.now(UTC)
    for i in range(sns_certs.CACHE_SIZE + 5):
        sns_certs.signing_key(f"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-{i:032x}.pem", at)

    assert sns_certs._certificate.cache_info().currsize == sns_certs.CACHE_SIZE


# --- at least 1,000 mutated envelopes: none accepted --------------------------------------------

OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:not-the-configured-topic"
NOT_SNS_HOSTS = st.one_of(
    st.sampled_from(
        [
            "sns.us-east-1.amazonaws.com.evil.example",
            "sns.amazonaws.com",
            "sqs.us-east-1.amazonaws.com",
            "sns.us-east-1.amazonaws.com:443",
            "sns.us-east-1.amazonaws.co",
            "sns..amazonaws.com",
            "SNS.evil.example",
            "sns.us-east-1.amazonaws.com.cn.evil.example",
            "127.0.0.1",
        ]
    ),
    st.from_regex(r"[a-z0-9]{1,12}\.(example|test|amazonaws\.net)", fullmatch=True),
)
BAD_CERT_URLS = st.one_of(
    st.builds("https://{}/SimpleNotificationService-x.pem".format, NOT_SNS_HOSTS),
    st.sampled_from(
        [
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "ftp://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com/x.pem.exe",
            "https://sns.us-east-1.amazonaws.com/x.pem?",
            "https://sns.us-east-1.amazonaws.com/x.pem#y",
            "https://sns.us-east-1.amazonaws.com",
            "//sns.us-east-1.amazonaws.com/x.pem",
        ]
    ),
)
TEXT = st.text(max_size=40)


class Mutation:
    """One way of spoiling an envelope, with a name hypothesis can print when it finds a hole."""

    def __init__(self, name: str, change):
        self.name, self.change = name, change

    def __call__(self, envelope: dict) -> dict:
        return self.change(envelope)

    def __repr__(self) -> str:
        return self.name


def _set(field, value) -> Mutation:
    def change(envelope):
        assume(envelope.get(field) != value)  # setting a field to what it was is no mutation
        return {**envelope, field: value}

    return Mutation(f"set {field}={value!r}", change)


def _drop(field) -> Mutation:
    return Mutation(f"drop {field}", lambda e: {k: v for k, v in e.items() if k != field})


def _resigned(name: str, **changes) -> Mutation:
    return Mutation(f"re-signed with {name}", lambda e: sns_signer().sign({**e, **changes}))


def _at(minutes: int) -> Mutation:
    return Mutation(
        f"signed {minutes} minutes from now",
        lambda e: sns_signer().sign({**e, "Timestamp": sns_timestamp(datetime.now(UTC) + timedelta(minutes=minutes))}),
    )


def _flip_bit(position: int) -> Mutation:
    def change(envelope):
        raw = bytearray(base64.b64decode(envelope["Signature"]))
        raw[position % len(raw)] ^= 1 << (position % 8)
        return {**envelope, "Signature": base64.b64encode(bytes(raw)).decode()}

    return Mutation(f"signature bit {position} flipped", change)


def _truncate(n: int) -> Mutation:
    return Mutation(f"signature minus its last {n} characters", lambda e: {**e, "Signature": e["Signature"][:-n]})


DOWNGRADE = Mutation(
    "other SignatureVersion, same signature",
    lambda e: {**e, "SignatureVersion": {"1": "2", "2": "1"}[e["SignatureVersion"]]},
)
FORGED = Mutation("signed by an attacker's key", lambda e: attacker().sign(e))

MUTATIONS = st.one_of(
    # a signed field changed after signing (Subject too: added or changed)
    st.builds(_set, st.sampled_from(["Message", "MessageId", "Timestamp", "TopicArn", "Subject"]), TEXT),
    st.builds(
        _set,
        st.just("Type"),
        st.sampled_from(["SubscriptionConfirmation", "UnsubscribeConfirmation", "notification", "", "Notification "]),
    ),
    # a field SNS always sends, removed
    st.builds(
        _drop,
        st.sampled_from(
            ["Message", "MessageId", "Timestamp", "TopicArn", "Type", "SignatureVersion", "Signature", "SigningCertURL"]
        ),
    ),
    # a field of the wrong JSON type
    st.builds(
        _set,
        st.sampled_from(["Message", "MessageId", "TopicArn", "Signature", "SignatureVersion"]),
        st.one_of(st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
    ),
    # a certificate SNS could not have issued (the signature itself still matches)
    st.builds(_set, st.just("SigningCertURL"), BAD_CERT_URLS),
    # properly signed, but for another topic, or long ago / far ahead
    st.just(_resigned("another topic", TopicArn=OTHER_TOPIC)),
    st.builds(_at, st.one_of(st.integers(61, 60 * 24 * 30), st.integers(-60 * 24 * 30, -61))),
    # a wrong or unknown version, or the other version with the same signature (downgrade)
    st.builds(_set, st.just("SignatureVersion"), st.one_of(st.sampled_from(["0", "3", "", "v2", "2 ", "1.0"]), TEXT)),
    st.just(DOWNGRADE),
    # the signature truncated, altered, replaced, or made with someone else's key
    st.builds(_truncate, st.integers(1, 340)),
    st.builds(_flip_bit, st.integers(0, 10_000)),
    st.builds(_set, st.just("Signature"), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())),
    st.builds(_set, st.just("Signature"), TEXT),
    st.just(FORGED),
)
ENVELOPES = st.tuples(st.sampled_from(SAMPLES), st.sampled_from(["1", "2"]), st.sampled_from([None, "WhatsApp"]))
_originals: dict[tuple, dict] = {}


def original(key: tuple, topic: str) -> dict:
    """A correctly signed envelope (checked to verify), made once per sample/version/subject."""
    if key not in _originals:
        name, version, subject = key
        envelope = notification(sample(name), topic_arn=topic, version=version, subject=subject)
        sns.verify(envelope)
        _originals[key] = envelope
    return _originals[key]


@hypothesis_settings(
    max_examples=examples(1000),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=ENVELOPES, mutate=MUTATIONS)
def test_no_mutated_envelope_is_ever_verified(topic, key, mutate):
    mutated = mutate(original(key, topic))
    with pytest.raises(sns.Unverified):  # pytest fails the test if verify lets it through
        sns.verify(mutated)


@hypothesis_settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=ENVELOPES, mutate=MUTATIONS)
def test_no_mutated_envelope_gets_through_the_webhook(client, topic, handed_off, key, mutate):
    response = post(client, mutate(original(key, topic)))

    assert response.status_code == 403
    handed_off.assert_not_called()


# --- moto's own SNS, delivering over HTTP --------------------------------------------------------


@pytest.fixture
def subscribed_live_server(live_server, settings, topic):
    """The live server's webhook subscribed (http) to the configured topic on moto, with the
    local stack's loader, which fetches moto's signing certificate from moto itself. moto does
    not POST a SubscriptionConfirmation (it marks http subscriptions confirmed at once)."""
    settings.SNS_CERT_LOADER = LOCAL_STACK_LOADER
    sns_client = aws_client("sns")
    arn = sns_client.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=f"{live_server.url}{URL}", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    yield sns_client
    # Other tests publish to this topic (tier alerts); moto must not keep posting to a dead server.
    sns_client.unsubscribe(SubscriptionArn=arn)


def test_moto_publishing_to_the_topic_reaches_the_task_through_the_verified_webhook(
    subscribed_live_server, topic, handed_off, caplog
):
    event = sample("inbound_text.json")
    with caplog.at_level("WARNING", logger="messaging.sns"):
        published = subscribed_live_server.publish(TopicArn=topic, Message=event)  # moto delivers before it answers

    assert [r.getMessage() for r in caplog.records if r.name == "messaging.sns"] == []
    handed_off.assert_called_once_with(message=event, sns_message_id=published["MessageId"])


def test_our_own_alerts_come_back_from_the_topic_and_are_acknowledged_without_a_task(
    subscribed_live_server, topic, handed_off, caplog
):
    # The webhook subscribes to the topic alerts are published to. Read as a WhatsApp event, an
    # alert would be parked as malformed, and the park would raise another alert, round and round.
    tier_alert_before_alerts = {"event": "whatsapp.tier.threshold", "portfolio": "default", "used": 4, "limit": 5}
    with caplog.at_level("INFO", logger="messaging.sns"):
        assert raise_alert(Kind.JOB_FAILED, f"loop-{uuid.uuid4().hex[:10]}", "a bulk job failed")
        subscribed_live_server.publish(TopicArn=topic, Message=json.dumps(tier_alert_before_alerts))
        # The template's CloudWatch alarms notify the same topic by default.
        subscribed_live_server.publish(TopicArn=topic, Message=CLOUDWATCH_ALARM.read_text())

    acknowledged = [r for r in caplog.records if r.name == "messaging.sns"]
    assert [r.getMessage() for r in acknowledged] == ["own alert acknowledged"] * 3  # verified, then let go
    handed_off.assert_not_called()


def test_moto_leaves_a_subject_out_of_what_it_signs_so_that_message_is_refused(
    subscribed_live_server, topic, handed_off, caplog
):
    # Real SNS signs Subject when present; moto 5.2 does not. Our verifier follows SNS, so moto's
    # message with a Subject fails, as a tampered one would: the quirk, pinned.
    with caplog.at_level("WARNING", logger="messaging.sns"):
        subscribed_live_server.publish(TopicArn=topic, Message=sample("inbound_text.json"), Subject="WhatsApp")

    assert [r.reason for r in caplog.records if r.name == "messaging.sns"] == ["signature does not match"]
    handed_off.assert_not_called()


# --- end to end: the real inbound task behind the webhook -------------------------------------------


@pytest.mark.parametrize("name", inbound_samples.INBOUND)
def test_a_signed_sample_through_the_webhook_ends_as_one_stored_message(client, topic, fake_aws_clean, new_phone, name):
    # No seam: CELERY_TASK_ALWAYS_EAGER runs messaging.process_inbound_event in the request.
    body, sent = inbound_samples.inbound(name, phone=new_phone())
    envelope = notification(body, topic_arn=topic)

    assert post(client, envelope).status_code == 200
    assert post(client, envelope).status_code == 200  # SNS redelivering: still 200, still one message

    stored = WaMessage.get(WaMessage.key(sent["id"]), consistent_read=True)
    assert (stored.direction, stored.type) == ("INBOUND", sent["type"])
    kept = Message.get(stored.messageId)
    assert (kept.whatsappMessageId, kept.direction, kept.channel) == (sent["id"], "inbound", "whatsapp")
    assert [m.messageId for m in Message.by_contact.query(kept.contactId)] == [kept.messageId]


def test_a_forged_sample_stores_nothing(client, topic, fake_aws_clean, new_phone):
    body, sent = inbound_samples.inbound("inbound_text", phone=new_phone())

    assert post(client, notification(body, topic_arn=topic, signer=attacker())).status_code == 403
    with pytest.raises(WaMessage.DoesNotExist):
        WaMessage.get(WaMessage.key(sent["id"]), consistent_read=True)


@pytest.mark.parametrize("name", inbound_samples.STATUSES)
def test_a_status_for_a_message_we_never_sent_is_still_answered_200(client, topic, fake_aws_clean, new_phone, name):
    # SNS must stop retrying what can never be used (a status of another system's message).
    long_ago = int((datetime.now(UTC) - RECORDING_GRACE - timedelta(hours=1)).timestamp())
    body = inbound_samples.status(name, wamid=inbound_samples.new_wamid(), phone=new_phone(), at=long_ago)

    assert post(client, notification(body, topic_arn=topic)).status_code == 200


def test_a_recent_status_for_a_message_not_recorded_yet_is_answered_200_and_kept_on_the_dlq(
    client, topic, fake_aws_clean, new_phone
):
    # Waiting for our send's record is the task's business (retries, then inbound-dlq), never SNS's.
    wamid = inbound_samples.new_wamid()
    body = inbound_samples.status("status_sent", wamid=wamid, phone=new_phone())
    envelope = notification(body, topic_arn=topic)

    assert post(client, envelope).status_code == 200
    wanted = dlq.fingerprint(
        "messaging.process_inbound_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    [record] = [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]
    assert "NotRecordedYet" in record.payload
