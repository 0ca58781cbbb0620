"""WhatsApp account health through the signed webhook: Meta's documented payloads for template
status and quality, a number's quality and messaging limit, display-name decisions and account
events (``fixtures/health/``, each file's source in the README there), wrapped in an AWS End User
Messaging Social event, signed as SNS signs it and posted to /webhooks/sns/. Each is recorded at
once and once (a second delivery changes nothing), alerted where a person must act; a bulk job
sending a template WhatsApp paused is paused with the reason; the tier limit follows the reported
messaging limit unless an admin set one.
"""

from __future__ import annotations

import copy
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from bulk.actions import control
from bulk.models import BulkJob
from bulk.template_pause import on_template_unusable
from messaging import business_numbers
from messaging.inbound import account_events, fields, health_events, number_health, template_health
from messaging.inbound.events import FieldChange, parse
from messaging.inbound.health_events import event_key
from messaging.outbound import tier
from messaging.signals import template_unusable
from messaging.tests.inbound_samples import load
from messaging.tests.sns_signing import notification, sns_test_certificates  # noqa: F401 (a fixture)
from messaging.whatsapp_table import WaAccountEvent, WaBusinessNumber, WaPhoneQuality, WaTemplate
from wecare import alerts, dlq
from wecare.alerts import Kind
from wecare.dynamo import now
from wecare.errors import Conflict
from wecare.models import SystemConfig

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sns_test_certificates")]
HEALTH = Path(__file__).parent / "fixtures" / "health"
PHONE_ARN = "arn:aws:social-messaging:us-east-1:809904170947:phone-number-id/"


class Delivery:
    """One test's number and templates: moto keeps data for the whole session, so each test's
    events name a phone-number ARN and templates of its own."""

    def __init__(self, client, topic: str) -> None:
        self.client, self.topic = client, topic
        self.run = uuid.uuid4().hex[:10]
        self.phone = f"phone-number-id-{self.run}"

    def template(self, name: str) -> str:
        return f"{name}_{self.run}"

    def body(self, fixture: str, *, time: int | None = None, **value: Any) -> str:
        """The EUM event for a fixture: its entry (template name made this test's, ``value``
        keys replaced) beside the shared sample's context with this test's phone ARN."""
        entry = copy.deepcopy(json.loads((HEALTH / f"{fixture}.json").read_text())["entry"][0])
        change = entry["changes"][0]["value"]
        if "message_template_name" in change:
            change["message_template_name"] = self.template(change["message_template_name"])
        change.update(value)
        if time is not None:
            entry["time"] = time
        event = load("inbound_text")
        event["context"]["MetaPhoneNumberIds"][0]["arn"] = PHONE_ARN + self.run
        return json.dumps({**event, "whatsAppWebhookEntry": json.dumps(entry), "messageId": str(uuid.uuid4())})

    def post(self, body: str, envelope: dict | None = None) -> dict:
        """Post ``body`` signed (or ``envelope`` again, as SNS redelivers); the envelope posted."""
        envelope = envelope or notification(body, topic_arn=self.topic)
        response = self.client.post(
            "/webhooks/sns/", data=json.dumps(envelope), content_type="text/plain; charset=UTF-8"
        )
        assert response.status_code == 200
        return envelope


@pytest.fixture
def deliver(client, settings):
    return Delivery(client, settings.SNS_TOPIC_ARN)


@pytest.fixture
def raised():
    """Every alert raised, as (kind, subject, summary, link); the real raise_alert still runs."""
    seen: list[tuple[str, str, str, str]] = []

    def spy(kind, subject, summary, *, link=""):
        seen.append((str(kind), subject, summary, link))
        return alerts.raise_alert(kind, subject, summary, link=link)

    with (
        mock.patch.object(template_health, "raise_alert", spy),
        mock.patch.object(number_health, "raise_alert", spy),
        mock.patch.object(account_events, "raise_alert", spy),
    ):
        yield seen


@pytest.fixture
def no_tier_config(settings):
    """No override and no reported limit before or after: other tests count on the setting."""
    settings.WHATSAPP_TIER_LIMIT = 250
    for key in (tier.TIER_LIMIT_KEY, tier.REPORTED_LIMIT_KEY):
        SystemConfig(key).delete()
    yield
    for key in (tier.TIER_LIMIT_KEY, tier.REPORTED_LIMIT_KEY):
        SystemConfig(key).delete()


def synced(name: str, language: str, *, status: str = "APPROVED") -> WaTemplate:
    """A template as the sync stores it."""
    at = now().isoformat()
    item = WaTemplate(
        pk=WaTemplate.key("waba-test", name, language),
        wabaId="waba-test",
        templateName=name,
        templateLanguage=language,
        metaTemplateId=str(uuid.uuid4().int % 10**15),
        templateStatus=status,
        templateCategory="MARKETING",
        components=[{"type": "BODY", "text": "Hello"}],
        receivedAt=at,
        syncedAt=at,
    )
    item.save()
    return item


def template(name: str, language: str) -> WaTemplate:
    found = [
        t
        for t in WaTemplate.item_type_index.query("TEMPLATE_EUM")
        if (getattr(t, "templateName", None), getattr(t, "templateLanguage", None)) == (name, language)
    ]
    assert len(found) == 1
    return WaTemplate.get(found[0].pk, consistent_read=True)


def job(name: str, language: str, status: str = "running", *, channel: str = "whatsapp") -> BulkJob:
    at = now()
    item = BulkJob(
        jobId=f"job-{uuid.uuid4().hex}",
        createdBy="olga-operator",
        name="Autumn offer",
        channel=channel,
        sender="phone-number-id-test",
        messageSpec={"template": {"name": name, "language": language, "parameters": {}}},
        status=status,
        createdAt=at,
        updatedAt=at,
        preparedAt=at,
    )
    item.save()
    return item


def reread(item: BulkJob) -> BulkJob:
    return BulkJob.get(item.jobId, consistent_read=True)


def parked(body: str, envelope: dict) -> list:
    wanted = dlq.fingerprint(
        "messaging.process_inbound_event", [], {"message": body, "sns_message_id": envelope["MessageId"]}
    )
    return [r for r in dlq.records("inbound-dlq") if r.originalMessageId == wanted]


# --- templates ------------------------------------------------------------------------------------


def test_a_paused_template_changes_at_once_pauses_its_jobs_with_the_reason_and_alerts_once(
    deliver, raised, client_for, operator
):
    name = deliver.template("testing_template")
    synced(name, "en")
    sending, other, elsewhere = job(name, "en"), job(name, "en", "pending"), job(deliver.template("other"), "en")
    body = deliver.body("acl_template_status_paused")

    envelope = deliver.post(body)
    first = template(name, "en")
    assert (first.templateStatus, first.statusReason) == ("PAUSED", "NONE")
    assert "paused for 6 hours" in first.statusDetail and first.statusChangedAt.startswith("2025-06-30")
    assert [e["event"] for e in first.healthHistory] == ["PAUSED"]
    for paused in (reread(sending), reread(other)):
        assert paused.status == "paused" and "paused for 6 hours" in paused.pausedReason
        assert name in paused.pausedReason
    assert reread(elsewhere).status == "running" and reread(elsewhere).pausedReason is None
    assert [(k, s, link) for k, s, _, link in raised] == [
        (Kind.TEMPLATE_UNUSABLE, f"{name} (en)", "/messages/templates/")
    ]
    assert raised[0][2].startswith(f"WhatsApp paused the template {name} (en): Your WhatsApp message template")
    paused_at = reread(sending).updatedAt

    deliver.post(body, envelope)  # SNS delivering it again
    again = template(name, "en")
    assert (again.healthHistory, again.healthVersion, again.templateStatus) == (
        first.healthHistory,
        first.healthVersion,
        "PAUSED",
    )
    assert len(raised) == 1 and reread(sending).updatedAt == paused_at
    assert parked(body, envelope) == []

    api = client_for(operator).get(f"/api/bulk/jobs/{sending.jobId}").json()
    assert api["status"] == "paused" and api["pausedReason"] == reread(sending).pausedReason
    page = client_for(operator).get(f"/bulk/{sending.jobId}/").content.decode()
    assert 'id="job-paused-reason"' in page and "paused for 6 hours" in page
    with pytest.raises(Conflict, match="it is paused"):
        control(sending.jobId, "resume", user=operator)  # every recipient left would be refused
    deliver.post(deliver.body("meta_template_status_approved", time=1_751_300_000, message_template_name=name,
                              message_template_language="en"))  # fmt: skip
    assert reread(sending).status == "paused"  # nothing resumes on its own
    resumed = control(sending.jobId, "resume", user=operator)
    assert resumed.status != "paused" and resumed.pausedReason is None


def test_a_rejected_template_not_yet_synced_is_kept_with_meta_reason_and_shown_on_the_templates_page(
    deliver, raised, client_for, viewer
):
    name = deliver.template("abandoned_cart")
    deliver.post(deliver.body("meta_template_status_rejected_invalid_format"))

    item = template(name, "en")
    assert (item.templateStatus, item.statusReason, item.templateCategory) == (
        "REJECTED",
        "INVALID_FORMAT",
        "MARKETING",
    )
    assert item.statusDetail.startswith("Your template has parameters placed next to each other")
    assert item.metaTemplateId == "1689556908129835" and item.pk.startswith("TEMPLATE_EUM#waba-fb2594b8a7974770b128a4")
    assert [(k, s) for k, s, *_ in raised] == [(Kind.TEMPLATE_UNUSABLE, f"{name} (en)")]
    assert "INVALID_FORMAT" in raised[0][2]

    page = client_for(viewer).get("/messages/templates/").content.decode()
    row = page[page.index(f'data-unusable-template="{name}"') :]
    row = row[: row.index("</tr>")]
    assert "Rejected" in row and "INVALID_FORMAT" in row and "Separate parameters with descriptive text" in row


def test_a_late_event_goes_into_the_history_without_undoing_a_newer_status(deliver, raised):
    name = deliver.template("order_confirmation")
    synced(name, "en-US")
    deliver.post(deliver.body("meta_template_status_disabled", time=1_751_000_000))
    deliver.post(deliver.body("meta_template_status_approved", time=1_751_000_100, message_template_name=name))
    deliver.post(deliver.body("acl_template_status_paused", time=1_750_999_000, message_template_name=name,
                              message_template_language="en-US"))  # fmt: skip

    item = template(name, "en-US")
    assert item.templateStatus == "APPROVED" and item.statusReason == "NONE"
    assert [e["event"] for e in item.healthHistory] == ["PAUSED", "DISABLED", "APPROVED"]  # in Meta's time order
    assert [k for k, *_ in raised] == [Kind.TEMPLATE_UNUSABLE]  # the DISABLED; the late PAUSED changed nothing


def test_limit_exceeded_is_about_the_account_and_leaves_an_approved_template_sendable(deliver, raised):
    """Meta: LIMIT_EXCEEDED "indicates the WhatsApp Business Account template is at its template
    limit". Taken as the template's status it made an approved template unsendable (the send
    path refuses any status but APPROVED) and paused the jobs sending it."""
    name = deliver.template("order_confirmation")
    synced(name, "en-US")
    sending = job(name, "en-US")

    deliver.post(deliver.body("meta_template_status_approved", message_template_name=name, event="LIMIT_EXCEEDED"))

    item = template(name, "en-US")
    assert item.templateStatus == "APPROVED" and [e["event"] for e in item.healthHistory] == ["LIMIT_EXCEEDED"]
    assert reread(sending).status == "running" and raised == []


def test_a_listener_failing_to_pause_the_jobs_retries_the_task_and_the_retry_pauses_them(deliver):
    """A failure in a template_unusable listener (bulk's Scan throttled) must reach the task so it
    retries; logged and dropped, the jobs kept sending a template WhatsApp refuses. The retry
    finds the event recorded (a duplicate) and announces it again."""
    name = deliver.template("testing_template")
    synced(name, "en")
    sending = job(name, "en")
    change = parse(deliver.body("acl_template_status_paused")).field_changes[0]
    failures = ["throttled"]

    def flaky(**_: Any) -> None:
        if failures:
            raise RuntimeError(failures.pop())

    template_unusable.connect(flaky, dispatch_uid="test.flaky")
    try:
        template_unusable.disconnect(dispatch_uid="bulk.template_pause")  # runs after the failure below
        template_unusable.connect(on_template_unusable, dispatch_uid="bulk.template_pause")
        with pytest.raises(RuntimeError, match="throttled"):
            fields.apply(change)
        assert reread(sending).status == "running"

        assert fields.apply(change) == "duplicate"  # the task's retry
    finally:
        template_unusable.disconnect(dispatch_uid="test.flaky")
    assert reread(sending).status == "paused" and name in reread(sending).pausedReason


def test_a_retry_after_the_worker_died_before_alerting_raises_the_alert_once(deliver, raised):
    """The task may be retried after a partial success: the event was recorded, the worker died
    before raising its alert. The retry finds a duplicate and must still raise it; a redelivery
    after that raises nothing more."""
    name = deliver.template("testing_template")
    synced(name, "en")
    change = parse(deliver.body("acl_template_status_paused")).field_changes[0]

    def died(*_: Any, **__: Any) -> None:
        raise SystemExit("the worker died between the write and the alert")

    with mock.patch.object(template_health, "raise_alert", died), pytest.raises(SystemExit):
        fields.apply(change)
    assert raised == [] and template(name, "en").templateStatus == "PAUSED"

    assert fields.apply(change) == "duplicate"  # the task's retry
    assert [(k, s) for k, s, *_ in raised] == [(Kind.TEMPLATE_UNUSABLE, f"{name} (en)")]
    assert fields.apply(change) == "duplicate"  # SNS delivering it once more
    assert len(raised) == 1


def test_a_quality_change_is_read_under_either_field_name_meta_gives_it(deliver):
    for fixture in ("meta_template_quality_update", "pywa_template_quality_update_yellow"):
        name = deliver.template(f"welcome_template_{fixture[:4]}")
        synced(name, "en-US")
        deliver.post(deliver.body(fixture, message_template_name=name))
        item = template(name, "en-US")
        assert (item.qualityScore, item.previousQualityScore, item.templateStatus) == ("YELLOW", "GREEN", "APPROVED")
        assert [e["kind"] for e in item.healthHistory] == ["quality"]


def test_the_sync_keeps_what_the_webhook_recorded(deliver, fake_aws_clean):
    from messaging.outbound import template_catalog  # the sync against the local fake

    template_catalog.sync_templates()
    deliver.post(deliver.body("meta_template_status_rejected_invalid_format", message_template_name="welcome_message",
                              message_template_language="en_US", message_template_id="1029384756000001"))  # fmt: skip
    assert template("welcome_message", "en_US").templateStatus == "REJECTED"
    template_catalog.sync_templates()
    item = WaTemplate.get(WaTemplate.key("waba-7d0a3c5e9f1b4e2a8c6d0f1e2a3b4c5d", "welcome_message", "en_US"))
    assert item.templateStatus == "APPROVED"  # AWS's status now
    assert item.statusReason == "INVALID_FORMAT" and any(e["event"] == "REJECTED" for e in item.healthHistory)


def test_an_event_recorded_while_the_sync_saves_the_template_keeps_what_the_sync_wrote(deliver):
    """The webhook reads the template, the sync saves AWS's newer copy, then the webhook writes:
    its write must fail its version check and read again, not put back the components it read."""
    from messaging.outbound import template_catalog  # the sync's save

    name = deliver.template("order_confirmation")
    old = synced(name, "en-US")
    read_before_the_sync = WaTemplate.get(old.pk, consistent_read=True)
    newer = WaTemplate.get(old.pk, consistent_read=True)
    newer.components = [{"type": "BODY", "text": "Hello again"}]
    template_catalog._save_synced(newer)
    reads = [read_before_the_sync]

    def find() -> WaTemplate:
        return reads.pop() if reads else WaTemplate.get(old.pk, consistent_read=True)

    entry = {"kind": "status", "event": "FLAGGED", "at": now().isoformat(), "key": uuid.uuid4().hex}
    outcome, _ = health_events.record_once(find, lambda: old, entry, lambda item: None, history="healthHistory")

    item = template(name, "en-US")
    assert outcome == "recorded" and [e["event"] for e in item.healthHistory] == ["FLAGGED"]
    assert item.components == [{"type": "BODY", "text": "Hello again"}]


def test_long_sentences_from_meta_cannot_grow_the_template_past_dynamodbs_item_size(deliver):
    """Each event's reason and sentence are kept on the item's history (50 events): cut, so a few
    long ones cannot take the item past DynamoDB's 400 KB (the save refused, the event parked)."""
    name = deliver.template("order_confirmation")
    synced(name, "en-US")
    long = "x" * 150_000
    for i in range(3):
        value = {
            "event": "PAUSED",
            "message_template_name": name,
            "message_template_language": "en-US",
            "reason": long,
            "other_info": {"title": "FIRST_PAUSE", "description": long},
        }
        assert (
            fields.apply(FieldChange("message_template_status_update", value, "1", {}, 1_760_000_000 + i)) == "recorded"
        )
    item = template(name, "en-US")
    assert len(item.healthHistory) == 3 and len(item.statusDetail) <= health_events.MAX_TEXT


def test_a_status_meta_reported_after_the_sync_read_aws_stays(deliver):
    """The sync reads AWS's list, then Meta pauses the template (the webhook records it), then the
    sync saves what it read: the newer pause stays, rather than read APPROVED until the next sync."""
    from datetime import timedelta

    from messaging.outbound import template_catalog  # the sync's save

    name = deliver.template("order_confirmation")
    read_at = now()
    old = synced(name, "en-US")
    paused = WaTemplate.get(old.pk, consistent_read=True)
    paused.templateStatus, paused.statusChangedAt = "PAUSED", (read_at + timedelta(seconds=5)).isoformat()
    paused.save()
    from_aws = WaTemplate.get(old.pk, consistent_read=True)
    from_aws.templateStatus = "APPROVED"

    template_catalog._save_synced(from_aws, read_at=read_at.isoformat())

    assert template(name, "en-US").templateStatus == "PAUSED"
    from_aws.templateStatus = "APPROVED"  # what a later sync reads from AWS
    template_catalog._save_synced(from_aws, read_at=(read_at + timedelta(seconds=6)).isoformat())
    assert template(name, "en-US").templateStatus == "APPROVED"  # a later sync: AWS's status again


# --- the number's quality and the tier ----------------------------------------------------------------


def test_the_tier_limit_follows_the_latest_reported_limit_and_an_admin_override_wins(deliver, raised, no_tier_config):
    assert tier.limit_and_source() == (250, "setting")  # until Meta reports
    deliver.post(deliver.body("meta_phone_quality_portfolio_limit", time=1_760_000_000))
    assert tier.tier_limit() == 2000
    quality = WaPhoneQuality.get(WaPhoneQuality.key(deliver.phone), consistent_read=True)
    assert (quality.messagingLimit, quality.throughputStatus, quality.lastEvent, quality.displayPhoneNumber) == (
        "TIER_2K",
        "HIGH",
        "THROUGHPUT_UPGRADE",
        "+15550783881",
    )

    SystemConfig(tier.TIER_LIMIT_KEY, configValue=7, updatedBy="alice", updatedAt=now()).save()
    assert tier.limit_and_source() == (7, "override")  # the admin's override wins
    SystemConfig(tier.TIER_LIMIT_KEY).delete()
    assert tier.limit_and_source() == (2000, "reported")

    # Meta's example: TIER_UNLIMITED with a throughput upgrade is throughput, not a limit.
    deliver.post(deliver.body("meta_phone_quality_throughput_upgrade", time=1_760_000_100))
    assert tier.tier_limit() == 2000
    numeric = deliver.body("phone_quality_numeric_limit", time=1_760_000_200)
    envelope = deliver.post(numeric)
    assert tier.tier_limit() == 1000
    deliver.post(deliver.body("phone_quality_downgrade", time=1_759_000_000))  # older, arriving late
    assert tier.tier_limit() == 1000

    deliver.post(numeric, envelope)  # delivered again
    quality = WaPhoneQuality.get(WaPhoneQuality.key(deliver.phone), consistent_read=True)
    assert [e["event"] for e in quality.qualityHistory] == [
        "DOWNGRADE",
        "THROUGHPUT_UPGRADE",
        "THROUGHPUT_UPGRADE",
        "UPGRADE",
    ]
    assert (quality.messagingLimit, quality.previousMessagingLimit, quality.lastEvent) == ("1000", "250", "UPGRADE")
    assert [k for k, *_ in raised] == [Kind.QUALITY_RED]  # the late downgrade is still alerted, once


def test_a_flagged_or_downgraded_number_is_alerted_as_quality_red(deliver, raised, no_tier_config):
    flagged = deliver.body("phone_quality_flagged", time=1_760_000_000)
    envelope = deliver.post(flagged)
    deliver.post(flagged, envelope)
    deliver.post(deliver.body("phone_quality_downgrade", time=1_760_000_100))

    named = business_numbers.label(deliver.phone)  # as every page names it, never by its id
    assert [(k, s, link) for k, s, _, link in raised] == [
        (Kind.QUALITY_RED, named, "/admin/business-numbers/"),
        (Kind.QUALITY_RED, named, "/admin/business-numbers/"),
    ]
    assert all(named in summary and deliver.phone not in summary for _, _, summary, _ in raised)
    assert "flagged" in raised[0][2] and "lowered the messaging limit" in raised[1][2] and "TIER_250" in raised[1][2]
    assert tier.tier_limit() == 250
    quality = WaPhoneQuality.get(WaPhoneQuality.key(deliver.phone), consistent_read=True)
    assert [e["event"] for e in quality.qualityHistory] == ["FLAGGED", "DOWNGRADE"]
    assert (quality.messagingLimit, quality.previousMessagingLimit) == ("TIER_250", "TIER_1K")


@pytest.mark.parametrize(
    ("word", "limit"),
    [
        ("TIER_50", 50),
        ("TIER_250", 250),
        ("TIER_1K", 1000),
        ("TIER_2K", 2000),
        ("TIER_10K", 10_000),
        ("TIER_100K", 100_000),
        ("100000", 100_000),
        ("TIER_UNLIMITED", tier.UNLIMITED_LIMIT),
        ("TIER_NOT_SET", None),
        ("0", None),
        ("", None),
        ("SOMETHING_NEW", None),
        ("TIER_999999999K", tier.UNLIMITED_LIMIT),  # capped: a slot number past it breaks every claim
        ("9" * 5000, None),  # past what int() reads: not a limit, rather than an error parking the event
    ],
)
def test_meta_words_for_a_messaging_limit(word, limit):
    assert tier.parse_limit(word) == limit


def test_an_unlimited_tier_claims_without_listing_every_slot(no_tier_config, new_phone):
    SystemConfig(
        tier.REPORTED_LIMIT_KEY, configValue={"limit": tier.UNLIMITED_LIMIT}, updatedBy="t", updatedAt=now()
    ).save()
    where = f"test-portfolio-{uuid.uuid4().hex[:10]}"
    assert tier.claim(new_phone(), where) and tier.claim(new_phone(), where)
    assert tier.tier_status(where) == (2, tier.UNLIMITED_LIMIT)


# --- account events and display names ----------------------------------------------------------------


def test_account_updates_are_recorded_once_and_those_asking_for_action_alerted(deliver, raised):
    fixtures = (
        "pywa_account_update_account_restriction",
        "pywa_account_update_account_violation",
        "pywa_account_update_account_disabled",
        "pywa_account_update_pricing_tiering_update",
    )
    bodies = [deliver.body(f, time=1_760_000_000 + int(deliver.run, 16) % 10_000) for f in fixtures]
    for body in bodies:
        envelope = deliver.post(body)
        deliver.post(body, envelope)

    items = [
        WaAccountEvent.get(WaAccountEvent.key(event_key(parse(b).field_changes[0])), consistent_read=True)
        for b in bodies
    ]
    assert [i.event for i in items] == [
        "ACCOUNT_RESTRICTION",
        "ACCOUNT_VIOLATION",
        "DISABLED_UPDATE",
        "VOLUME_BASED_PRICING_TIER_UPDATE",
    ]
    assert "RESTRICTED_BIZ_INITIATED_MESSAGING" in items[0].summary and items[0].wabaMetaId == "102290129340398"
    assert [(k, s) for k, s, *_ in raised] == [
        (Kind.ACCOUNT_UPDATE, "102290129340398 ACCOUNT_RESTRICTION"),
        (Kind.ACCOUNT_UPDATE, "102290129340398 ACCOUNT_VIOLATION"),
        (Kind.ACCOUNT_UPDATE, "102290129340398 DISABLED_UPDATE"),
    ]


def test_a_display_name_decision_is_recorded_alerted_and_refreshes_the_names_from_aws(deliver, raised):
    with mock.patch.object(business_numbers, "refresh_from_aws", wraps=business_numbers.refresh_from_aws) as refresh:
        for decision in ("approved", "rejected"):
            body = deliver.body(
                f"meta_phone_number_name_update_{decision}", time=1_760_000_000 + int(deliver.run, 16) % 10_000
            )
            envelope = deliver.post(body)
            deliver.post(body, envelope)
            item = WaAccountEvent.get(WaAccountEvent.key(event_key(parse(body).field_changes[0])), consistent_read=True)
            assert (item.changeField, item.event, item.phoneNumberId) == (
                "phone_number_name_update",
                decision.upper(),
                deliver.phone,
            )
    assert refresh.call_count == 4  # on the duplicate too: a retry after a crash still refreshes
    named = business_numbers.label(deliver.phone)  # as every page names it, never by its id
    assert [(k, s) for k, s, *_ in raised] == [
        (Kind.NUMBER_NAME, f"{named} APPROVED"),
        (Kind.NUMBER_NAME, f"{named} REJECTED"),
    ]
    assert all(named in summary and deliver.phone not in summary for _, _, summary, _ in raised)
    assert "Lucky Shrub" in raised[1][2] and "NAME_FORMAT_UNACCEPTABLE" in raised[1][2]


def test_a_change_that_cannot_be_read_is_counted_malformed_not_parked():
    for field_name, value in (
        ("message_template_status_update", {"event": "PAUSED"}),
        ("message_template_quality_update", {"message_template_name": "x"}),
        ("phone_number_quality_update", {"display_phone_number": "15550783881"}),
        ("phone_number_name_update", {"requested_verified_name": "Lucky Shrub"}),
        ("account_update", {"waba_info": {}}),
    ):
        assert fields.apply(FieldChange(field_name, value, "102290129340398", {})) == "malformed"


def test_events_racing_on_one_template_are_all_kept(deliver):
    """Writers on one item (Meta's events arrive in parallel on several workers) each read the
    version and write conditionally: a loser reads again, so no event is lost."""
    name = deliver.template("order_confirmation")
    synced(name, "en-US")
    events = ["PAUSED", "APPROVED", "FLAGGED", "PAUSED", "APPROVED", "LOCKED"]
    changes = [
        parse(
            deliver.body("meta_template_status_approved", time=1_760_000_000 + i, message_template_name=name, event=e)
        ).field_changes[0]
        for i, e in enumerate(events)
    ]
    with ThreadPoolExecutor(len(changes)) as pool:
        outcomes = list(pool.map(fields.apply, changes))

    assert outcomes == ["recorded"] * len(events)
    item = template(name, "en-US")
    assert [e["event"] for e in item.healthHistory] == events  # every one, in Meta's time order
    assert (item.templateStatus, item.healthVersion) == ("APPROVED", len(events))  # the last status event's


def test_with_several_numbers_in_the_context_the_change_is_about_the_one_with_that_phone(settings, deliver):
    """EUM's context lists every number of the WABA; the change names one by its display number."""
    mine, other = f"phone-number-id-{deliver.run}", f"phone-number-id-{deliver.run}x"
    settings.WHATSAPP_PHONE_NUMBER_IDS = [other, mine]
    WaBusinessNumber(
        pk=f"BUSINESS_NUMBER#{mine}", sender=mine, channel="whatsapp", phone="+15550783881", receivedAt="2026"
    ).save()
    WaBusinessNumber(
        pk=f"BUSINESS_NUMBER#{other}", sender=other, channel="whatsapp", phone="+15550000000", receivedAt="2026"
    ).save()
    business_numbers.forget_cache()
    context = {"MetaPhoneNumberIds": [{"arn": PHONE_ARN + f"{deliver.run}x"}, {"arn": PHONE_ARN + deliver.run}]}
    value = {"display_phone_number": "15550783881", "event": "FLAGGED"}
    try:
        assert health_events.phone_number_id(FieldChange("phone_number_quality_update", value, "1", context)) == mine
        unknown = {**value, "display_phone_number": "15559999999"}
        assert health_events.phone_number_id(FieldChange("phone_number_quality_update", unknown, "1", context)) is None
    finally:
        business_numbers.forget_cache()


def test_a_change_with_an_unreadable_time_or_an_odd_block_is_still_recorded_not_parked():
    """An entry time past the calendar, or a block of another type than Meta's, is read around:
    raising would retry the whole event and then park it for one field."""
    run = uuid.uuid4().hex[:10]
    far = 10**13  # epoch seconds past year 9999
    value = {"display_phone_number": "15550783881", "event": "FLAGGED"}  # no limit: the tier stays the tests'
    context = {"MetaPhoneNumberIds": [{"arn": PHONE_ARN + run}]}
    assert fields.apply(FieldChange("phone_number_quality_update", value, "1", context, far)) == "recorded"
    template = {"event": "PAUSED", "message_template_name": f"t_{run}", "message_template_language": "en_US"}
    assert fields.apply(FieldChange("message_template_status_update", template, "1", {}, far)) == "recorded"
    account = {"event": "ACCOUNT_RESTRICTION", "restriction_info": 5, "violation_info": "x", "nonce": run}
    assert fields.apply(FieldChange("account_update", account, "1", {}, far)) == "recorded"
