"""Critical errors a person must act on, published to the SNS topic and listed on the Alerts page:
a task parked on a DLQ, a provider refusing our credentials, a template Meta paused or disabled,
a number whose quality turned red, a bulk job that failed. One alert per kind and subject per
period (deduplicated across processes), each with a link to the page that explains it.

Why it is built this way (the marker, the loop through our own webhook): docs/design/operations.md,
"Alerts".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.urls import reverse
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from ulid import ULID

from wecare.aws import client
from wecare.dynamo import now, transaction, update_if
from wecare.models import Alert, AlertMarker

log = logging.getLogger("wecare.alerts")


class Kind(StrEnum):
    DLQ_PARKED = "dlq.parked"  # subject: the queue
    PROVIDER_AUTH = "provider.auth"  # subject: the service (socialmessaging, sms, ses, bedrock)
    TEMPLATE_UNUSABLE = "whatsapp.template"  # subject: the template name and language
    QUALITY_RED = "whatsapp.quality"  # subject: the phone-number id
    ACCOUNT_UPDATE = "whatsapp.account"  # subject: the WABA id
    NUMBER_NAME = "whatsapp.number-name"  # subject: the phone-number id
    TIER_USE = "whatsapp.tier"  # subject: the portfolio
    JOB_FAILED = "bulk.job"  # subject: the job id


class Outcome(StrEnum):
    PUBLISHED = "published"  # this raise published the period's alert
    REPEATED = "repeated"  # counted on the period's alert, which is on the topic already
    UNPUBLISHED = "unpublished"  # not on the topic (yet): publishing failed, or storing did (logged)


SOURCE = "wecare.alert"  # every published alert says so: our own webhook recognises it (is_own)
RETENTION = timedelta(days=90)
PUBLISH_RETRY = timedelta(minutes=1)  # while publishing fails, one raise a minute tries again
MAX_SUBJECT = 200
MAX_SUMMARY = 1000
ATTEMPTS = 5  # a guard: each attempt fails only when another raiser changed the marker meanwhile

# AWS error codes that mean our credentials or the role's permissions are refused: no retry fixes
# these; a person must (docs/runbooks/alerts.md).
AUTH_ERROR_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "NotAuthorized",
        "SignatureDoesNotMatch",
        "UnauthorizedOperation",
        "UnrecognizedClient",
        "UnrecognizedClientException",
    }
)


def raise_alert(
    kind: Kind,
    subject: str,
    summary: str,
    *,
    link: str = "",
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> bool:
    """Record and publish an alert unless one of this kind and subject was raised within the
    period; True when this call published it. Never raises: an alert that cannot be published is
    logged, and the caller's own work goes on.

    ``link``: a path on this site (reverse() a URL name); published as an absolute URL.
    ``details``: more fields for the published message (never replacing the alert's own).
    ``at``: the time of the raise (the caller's clock, e.g. the tier's)."""
    return record(kind, subject, summary, link=link, details=details, at=at) is Outcome.PUBLISHED


def record(
    kind: Kind,
    subject: str,
    summary: str,
    *,
    link: str = "",
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> Outcome:
    """``raise_alert``, saying what happened (the tier alert needs to know whether it went out)."""
    at = at or now()
    subject, summary = subject[:MAX_SUBJECT], summary[:MAX_SUMMARY]
    try:
        alert, opened = _count(Kind(kind), subject, summary, link, at)
        if not opened and alert.publishedAt is not None:
            return Outcome.REPEATED
        if not opened and not _claim_retry(alert, at):
            return Outcome.UNPUBLISHED  # another raise is publishing it, or tried a moment ago
    except Exception:  # an alert must never break the work that raised it
        # Nothing stored: publishing anyway would skip the dedup and could flood the topic.
        log.exception("alert not recorded", extra={"kind": str(kind), "subject": subject, "summary": summary})
        return Outcome.UNPUBLISHED
    return Outcome.PUBLISHED if _publish(alert, details or {}, at) else Outcome.UNPUBLISHED


def marker_key(kind: str, subject: str) -> str:
    return f"marker#{kind}#{subject}"


def _count(kind: Kind, subject: str, summary: str, link: str, at: datetime) -> tuple[Alert, bool]:
    """Count this raise on the period's alert, or open the next period's: (the alert, True when
    opened now). Repeats, the common case under a burst, are a read and an atomic ADD; only
    opening a period is a transaction, whose condition one raiser wins."""
    key = marker_key(kind, subject)
    for _ in range(ATTEMPTS):
        try:
            marker: AlertMarker | None = AlertMarker.get(key, consistent_read=True)
        except DoesNotExist:
            marker = None
        if marker is not None and marker.periodEnds > at:
            current = Alert(marker.currentId)
            if update_if(
                current,
                actions=[Alert.occurrences.add(1), Alert.lastSeen.set(at), Alert.summary.set(summary)],
                condition=Alert.alertId.exists(),
            ):
                return current, False
            # The marker names an alert that is gone (removed by hand): open a new period.
        opened = _open(key, kind, subject, summary, link, at, marker)
        if opened is not None:
            return opened, True
        # Another raiser opened the period meanwhile: count on theirs.
    raise RuntimeError(f"could not record alert {kind} {subject!r} after {ATTEMPTS} attempts")


def _open(
    key: str, kind: Kind, subject: str, summary: str, link: str, at: datetime, seen: AlertMarker | None
) -> Alert | None:
    """The next period's alert, written with its marker in one transaction, so a raiser who reads
    the marker always finds the alert it names; None when another raiser changed the marker since
    we read it (``seen``)."""
    period = timedelta(minutes=settings.ALERT_REPEAT_MINUTES)
    alert = Alert(
        str(ULID.from_datetime(at)),
        kind=str(kind),
        subject=subject,
        summary=summary,
        link=link or None,
        firstSeen=at,
        lastSeen=at,
        occurrences=1,
        publishTriedAt=at,
        expiresAt=at + RETENTION,
    )
    # The marker as we saw it: missing, or naming the alert we saw (whose period ended, or which is gone).
    unchanged = AlertMarker.alertId.does_not_exist() if seen is None else AlertMarker.currentId == seen.currentId
    tx = transaction()
    try:
        with tx:
            tx.update(
                AlertMarker(key),
                actions=[
                    AlertMarker.currentId.set(alert.alertId),
                    AlertMarker.periodEnds.set(at + period),
                    AlertMarker.expiresAt.set(at + period + timedelta(days=1)),
                ],
                condition=unchanged,
                label="marker",
            )
            tx.save(alert, condition=Alert.alertId.does_not_exist(), label="alert")
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return None  # the marker changed, or a concurrent raiser's transaction conflicted
        raise
    return alert


def _claim_retry(alert: Alert, at: datetime) -> bool:
    """A repeat of an alert that was never published publishes it, at most once a minute."""
    tried = alert.publishTriedAt
    if tried is not None and tried > at - PUBLISH_RETRY:
        return False
    same_try = Alert.publishTriedAt.does_not_exist() if tried is None else Alert.publishTriedAt == tried
    return update_if(
        alert,
        actions=[Alert.publishTriedAt.set(at)],
        condition=Alert.publishedAt.does_not_exist() & same_try,
    )


def absolute(link: str | None) -> str:
    """A path on this site as the URL a person opens from the alert (SITE_URL), when known."""
    if not link:
        return ""
    return f"{settings.SITE_URL}{link}" if link.startswith("/") and settings.SITE_URL else link


def message_of(alert: Alert, details: Mapping[str, Any]) -> dict[str, Any]:
    """What goes to the topic: the alert's own fields over the caller's details."""
    return {
        **details,
        "source": SOURCE,
        "alertId": alert.alertId,
        "kind": alert.kind,
        "subject": alert.subject,
        "summary": alert.summary,
        "link": absolute(alert.link),
        "firstSeen": alert.firstSeen.isoformat(),
        "lastSeen": alert.lastSeen.isoformat(),
        "count": int(alert.occurrences),
    }


def _publish(alert: Alert, details: Mapping[str, Any], at: datetime) -> bool:
    message = message_of(alert, details)
    attributes = {name: {"DataType": "String", "StringValue": message[name]} for name in ("source", "kind")}
    if isinstance(details.get("event"), str):  # a subscription may filter on it (the tier alert's)
        attributes["event"] = {"DataType": "String", "StringValue": details["event"]}
    extra = {"kind": alert.kind, "subject": alert.subject, "alert_id": alert.alertId}
    try:
        # No Subject: the local SNS signs deliveries without it (see DESIGN, known quirks).
        client("sns").publish(
            TopicArn=settings.ALERTS_TOPIC_ARN,
            Message=json.dumps(message, default=str),
            MessageAttributes=attributes,
        )
    except Exception as exc:  # the alert stays stored; a later raise tries again
        log.exception("alert not published", extra=extra)
        _note(alert, [Alert.publishError.set(f"{type(exc).__name__}: {exc}"[:500])])
        return False
    _note(alert, [Alert.publishedAt.set(at), Alert.publishError.remove()])
    log.warning("alert published", extra={**extra, "summary": alert.summary, "count": int(alert.occurrences)})
    return True


def _note(alert: Alert, actions: list) -> None:
    try:
        alert.update(actions=actions)
    except Exception:  # the publish state on the page matters less than the alert
        log.exception("alert's publish state not saved", extra={"alert_id": alert.alertId})


def provider_refused(service: str, code: str, message: str) -> bool:
    """Alert when a provider's error code says our credentials or permissions are refused; True
    when it was such an error. Callers pass every permanent provider error through here."""
    if code not in AUTH_ERROR_CODES:
        return False
    raise_alert(
        Kind.PROVIDER_AUTH,
        service,
        f"{service} refused our credentials or permissions ({code}): {message}",
        link=f"{reverse('alerts:list')}?kind={Kind.PROVIDER_AUTH}",
    )
    return True


def is_own(body: object) -> bool:
    """Whether an SNS message is one of our own alerts, come back through the webhook's
    subscription to the topic it was published to."""
    return isinstance(body, dict) and body.get("source") == SOURCE and isinstance(body.get("kind"), str)
