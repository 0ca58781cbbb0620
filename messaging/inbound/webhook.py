"""``POST /webhooks/sns/``: WhatsApp, SMS and SES notifications, delivered by SNS.

Public, because SNS cannot log in: the signature is the authentication (``messaging/inbound/sns.py``).
Anything unverified gets 403 and one log line, and nothing else happens. A verified notification
is handed to the task of its kind (``messaging/inbound/routing.py``) and answered 200 at once,
also when the event turns out to be a duplicate or unusable (the task decides that), so SNS stops
retrying; only a failure to queue it answers 503, so that SNS does retry. The platform's own
alerts, back from the topic they were published to, are answered 200 with no task at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.inbound import sns
from messaging.inbound.routing import TASKS, classify
from wecare import jsonlimits
from wecare.aws import client
from wecare.bodylimits import declared_length
from wecare.roles import public

log = logging.getLogger("messaging.sns")

# SNS caps a message at 256 KB; JSON-escaping it again inside the envelope, plus the signature
# and URLs, can make the body larger, so allow twice that and no more.
MAX_BODY_BYTES = 512 * 1024


@csrf_exempt
@public
@require_POST
def sns_webhook(request: HttpRequest) -> JsonResponse:
    if declared_length(request) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return JsonResponse({"code": "TOO_LARGE", "detail": f"body over {MAX_BODY_BYTES} bytes"}, status=413)
    try:
        envelope = _parse(request.body)
    except jsonlimits.TooDeep as exc:
        # A form limit, like the size above: checked before verification, with its own answer.
        return JsonResponse({"code": "TOO_DEEP", "detail": str(exc)}, status=400)
    try:
        message = sns.verify(envelope)
    except sns.Unverified as refusal:
        fields = envelope if isinstance(envelope, dict) else {}
        log.warning(
            "sns message refused",
            extra={
                "reason": refusal.reason,
                "snsMessageId": _printable(fields.get("MessageId")),
                "topicArn": _printable(fields.get("TopicArn")),
            },
        )
        return JsonResponse({"code": "UNVERIFIED", "detail": "message failed SNS verification"}, status=403)
    return HANDLERS[message.type](message)


def _parse(body: bytes) -> object:
    """The body as JSON, None when it is not JSON (verification then refuses it); TooDeep when it
    is nested deeper than any SNS envelope (a flat object) could be."""
    # SNS sends JSON as text/plain, so the content type says nothing; just try.
    try:
        return jsonlimits.loads(body)
    except jsonlimits.TooDeep:
        raise
    except ValueError:
        return None


def _printable(value: object) -> str | None:
    """A log-safe rendering of a field from an unverified body (any type, any length)."""
    return None if value is None else str(value)[:200]


def hand_off(message: sns.SnsMessage) -> JsonResponse:
    kind = classify(message.message)
    if kind is None:  # our own alert or alarm, published to a topic we also receive: nothing to do
        log.info("own alert acknowledged", extra={"snsMessageId": message.message_id})
        return JsonResponse({"status": "ignored"})
    try:
        TASKS[kind].delay(message=message.message, sns_message_id=message.message_id)
    except Exception:  # broker down, SQS throttled…: the event is not lost, SNS retries on 5xx
        log.exception("sns notification not queued", extra={"snsMessageId": message.message_id})
        return JsonResponse({"code": "QUEUE_UNAVAILABLE", "detail": "not queued; retry"}, status=503)
    return JsonResponse({"status": "queued"})


def confirm_subscription(message: sns.SnsMessage) -> JsonResponse:
    """Confirm through the SNS API rather than by GETting SubscribeURL: the call is signed with
    our own role and goes to the configured endpoint (moto locally), and it can only confirm a
    subscription to a configured topic, which ``verify`` has already insisted on."""
    try:
        response = client("sns").confirm_subscription(TopicArn=message.topic_arn, Token=message.token)
    except Exception:
        log.exception("sns subscription not confirmed", extra={"topicArn": message.topic_arn})
        return JsonResponse({"code": "CONFIRMATION_FAILED", "detail": "not confirmed; retry"}, status=503)
    log.info(
        "sns subscription confirmed",
        extra={"topicArn": message.topic_arn, "subscriptionArn": response.get("SubscriptionArn")},
    )
    return JsonResponse({"status": "confirmed"})


def note_unsubscribed(message: sns.SnsMessage) -> JsonResponse:
    # Someone removed the subscription (console, API): nothing to undo here, but inbound
    # messages stop arriving, so say it loudly.
    log.warning("sns subscription removed", extra={"topicArn": message.topic_arn})
    return JsonResponse({"status": "noted"})


HANDLERS: dict[str, Callable[[sns.SnsMessage], JsonResponse]] = {
    "Notification": hand_off,
    "SubscriptionConfirmation": confirm_subscription,
    "UnsubscribeConfirmation": note_unsubscribed,
}
