"""Bulk job state changes: preview, start (with confirmation), pause / resume / cancel.

Pages, the API and commands call these; each change a person makes is audited. Errors:
``FieldErrors`` (422), ``send.Refused`` (422 TIER_LIMIT), ``Conflict`` (409), ``NotFound`` (404).
The rules (what a preview counts, the confirmation, the tier for the job as a whole, why the
audience is resolved in the request) are in docs/design/bulk-sending.md."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from bulk import idempotency
from bulk import repeats as repeating
from bulk.audience import AudienceSpec, ResolvedRecipient, resolve
from bulk.batching import write_all
from bulk.counting import finish_if_done
from bulk.models import BulkJob, BulkPlan, plan_key
from bulk.preparation import CHUNK_SIZE, prepare_job
from bulk.queries import get_job, unfinished_chunks
from bulk.sending import send_chunk
from contacts.validation import visible_text
from messaging.channels import Channel, allowed_senders
from messaging.outbound import gate, ratelimit, template_catalog, tier
from messaging.outbound.send import Refused, parse
from wecare import audit
from wecare.dynamo import now, transaction, update_if
from wecare.errors import Conflict, FieldErrors

log = logging.getLogger("bulk.actions")

# action -> (statuses it may start from, status it sets)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "pause": (("pending", "running"), "paused"),
    "resume": (("paused",), "running"),
    "cancel": (("pending", "running", "paused"), "cancelled"),
}


@dataclass
class TierVerdict:
    """WhatsApp messaging limit for this job (all zero for SMS and email)."""

    business_initiated: int = 0  # sendable recipients outside their 24 h window
    shortfall: int = 0  # how many of them the tier has no room for (0 = fits)

    @property
    def allows(self) -> bool:
        return self.shortfall == 0


@dataclass
class Preview:
    channel: str
    sender: str  # the first (or only) number or sender
    total: int  # audience rows
    sendable: int
    refused: dict[str, int]  # reason code -> rows
    tier: TierVerdict
    estimated_seconds: float  # sendable / the tightest rate limit on this channel and sender
    needs_confirmation: bool  # sendable > BULK_CONFIRMATION_THRESHOLD
    threshold: int
    # Per row, in audience order: (recipient, refusal reason or None). For start_job, not for display.
    rows: list[tuple[ResolvedRecipient, str | None]] = field(default_factory=list, repr=False)
    senders: list[str] = field(default_factory=list)  # every number it sends from, ``sender`` first
    content_key: str = ""  # what the message says (bulk/repeats.py)
    # Jobs of the last BULK_REPEAT_WARNING_HOURS that sent the same content to some of these people.
    repeats: list[repeating.Repeat] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.sendable > 0 and self.tier.allows


def _check_message(
    message: dict[str, Any], channel: str, sender: str | None, recipients: list[ResolvedRecipient]
) -> dict[str, Any]:
    """The message as the send API would take it, checked once for the whole job; returns the
    stored spec. Per-row template parameters (CSV columns) replace the template's own."""
    if not isinstance(message, dict):
        raise FieldErrors({"message": "must be an object"})
    unknown = set(message) - {"text", "template", "media", "subject", "html"}
    if unknown:
        raise FieldErrors({"message": f"unknown field(s): {', '.join(sorted(unknown))}"})
    with_params = next((r.parameters for r in recipients if r.parameters and not r.refused), None)
    if with_params is not None and not message.get("template"):
        raise FieldErrors(
            {
                "audience.csv": "parameter columns (param1.., header1..) are for "
                "template messages; choose a template or drop them"
            }
        )
    sample = dict(message)
    if with_params is not None:
        sample["template"] = {
            **message["template"],
            "parameters": {**(message["template"].get("parameters") or {}), **with_params},
        }
    request = parse({**sample, "contactId": "bulk", "channel": channel, "sender": sender})
    if with_params is not None:
        expected = {part: len(values) for part, values in with_params.items()}
        for recipient in recipients:
            if not recipient.refused and recipient.parameters is not None:
                blank = [
                    part
                    for part, values in recipient.parameters.items()
                    if len(values) != expected.get(part) or not all(values)
                ]
                if blank:
                    raise FieldErrors(
                        {
                            "audience.csv": f"row {recipient.row} has an empty template parameter "
                            f"({', '.join(blank)}); every row needs every value"
                        }
                    )
    spec = {
        k: v
        for k, v in {
            "text": request.text,
            "template": request.template,
            "media": request.media,
            "subject": request.subject,
            "html": request.html,
        }.items()
        if v
    }
    return {"spec": spec, "sender": request.sender, "is_template": request.is_template}


MAX_SENDERS = 10


def _job_senders(channel: Channel, sender: str | None, senders: list[str] | None) -> list[str] | None:
    """The numbers a WhatsApp campaign sends from, ``sender`` first (None: ``sender`` alone, as
    parse resolves it). Each must be on the allowlist: the gate checks ``sender`` per recipient,
    the others are checked here once."""
    if not senders:
        return None
    if channel != Channel.WHATSAPP:
        raise FieldErrors({"senders": f"several senders are for WhatsApp numbers only, not {channel.value}"})
    chosen = list(dict.fromkeys([*([sender] if sender else []), *senders]))  # in order, once each
    if len(chosen) > MAX_SENDERS:
        raise FieldErrors({"senders": f"at most {MAX_SENDERS} numbers per job"})
    off_list = [s for s in chosen if s not in allowed_senders(channel)]
    if off_list:
        raise FieldErrors({"senders": f"not an allowlisted WhatsApp number: {', '.join(off_list)}"})
    return chosen


def _estimate_seconds(channel: str, senders: list[str], sendable: int) -> float:
    """At every number's limit at once (the recipients take the numbers in turn), within the account's."""
    try:
        buckets = [ratelimit.buckets_for(channel, sender) for sender in senders]
    except ValueError:
        return 0.0
    per_sender = sum(buckets_of[0][1] for buckets_of in buckets)
    limit = min([per_sender, *(lim for buckets_of in buckets for _, lim in buckets_of[1:])])
    return round(sendable / limit, 1)


def _evaluate(
    audience: AudienceSpec,
    message: dict[str, Any],
    channel: str,
    sender: str | None,
    senders: list[str] | None = None,
) -> tuple[Preview, dict[str, Any]]:
    try:
        chosen = Channel(channel)
    except ValueError:
        raise FieldErrors({"channel": "must be whatsapp, sms or email"}) from None
    numbers = _job_senders(chosen, sender, senders)
    recipients = resolve(audience, chosen.value)
    checked = _check_message(message, chosen.value, numbers[0] if numbers else sender, recipients)
    numbers = numbers or [checked["sender"] or ""]
    at = now()
    rows: list[tuple[ResolvedRecipient, str | None]] = []
    business_initiated: list[str] = []
    for recipient in recipients:
        if recipient.refused:
            rows.append((recipient, recipient.refused))
            continue
        # The tier is judged for the job as a whole below, not one recipient at a time.
        verdict = gate.check(
            recipient.contact,
            chosen,
            checked["sender"],
            is_template=checked["is_template"],
            at=at,
            tier_allows=lambda phone: True,
        )
        rows.append((recipient, verdict.reason.value if verdict.reason else None))
        if (
            verdict.allowed
            and chosen == Channel.WHATSAPP
            and recipient.contact is not None
            and recipient.contact.whatsapp_window_expires_at(at) is None
        ):
            business_initiated.append(recipient.address)
    tier_verdict = TierVerdict()
    if business_initiated:
        tier_verdict = TierVerdict(len(business_initiated), tier.would_exceed(business_initiated, now=at))
    sendable = sum(1 for _, reason in rows if reason is None)
    key = repeating.content_key(chosen.value, checked["spec"])
    reached = [r.contact_id for r, reason in rows if reason is None and r.contact_id]
    threshold = settings.BULK_CONFIRMATION_THRESHOLD
    preview = Preview(
        channel=chosen.value,
        sender=checked["sender"] or "",
        total=len(rows),
        sendable=sendable,
        refused=dict(Counter(reason for _, reason in rows if reason)),
        tier=tier_verdict,
        estimated_seconds=_estimate_seconds(chosen.value, numbers, sendable),
        needs_confirmation=sendable > threshold,
        threshold=threshold,
        rows=rows,
        senders=numbers,
        content_key=key,
        repeats=repeating.find(key, reached, at=at),
    )
    return preview, checked


def preview(
    audience: AudienceSpec,
    message: dict[str, Any],
    *,
    channel: str,
    sender: str | None,
    user: Any,
    senders: list[str] | None = None,
) -> Preview:
    """What a job would do now; nothing is written or sent. ``user`` is for the log only.
    ``senders``: a WhatsApp campaign on several numbers (see ``_job_senders``)."""
    result, _ = _evaluate(audience, message, channel, sender, senders)
    log.info(
        "bulk preview",
        extra={
            "user": audit.actor_id(user),
            "channel": result.channel,
            "total": result.total,
            "sendable": result.sendable,
        },
    )
    return result


def _tier_refusal(result: Preview) -> Refused:
    sentence = (
        f"This job would reach {result.tier.business_initiated} people "
        "outside their 24-hour window; the WhatsApp messaging "
        f"limit has room for {result.tier.business_initiated - result.tier.shortfall} more in the last 24 hours. "
        "Send to fewer people, wait, or raise the tier."
    )
    return Refused(gate.Verdict(gate.Reason.TIER_LIMIT, sentence))


def _require_confirmation(result: Preview, confirm: bool, previewed_count: int | None) -> None:
    if not result.needs_confirmation:
        return
    if not confirm:
        raise FieldErrors(
            {
                "confirm": f"This job sends to {result.sendable} recipients (more than {result.threshold}): look at "
                f"the preview, then start it again with confirm=true and previewedCount={result.sendable}."
            }
        )
    if previewed_count != result.sendable:
        raise FieldErrors(
            {
                "previewedCount": f"The audience now has {result.sendable} sendable recipients, "
                f"not {previewed_count}: preview again and confirm that number."
            }
        )


@dataclass
class Started:
    job: BulkJob
    created: bool  # False: an earlier start with the same idempotency key made this job


def start_job(audience: AudienceSpec, message: dict[str, Any], **options: Any) -> BulkJob:
    """``start`` (same arguments), returning only the job (``pending``, preparing until
    ``preparedAt``): for callers that do not care whether an idempotency key found it."""
    return start(audience, message, **options).job


def start(
    audience: AudienceSpec,
    message: dict[str, Any],
    *,
    channel: str,
    sender: str | None,
    user: Any,
    confirm: bool = False,
    previewed_count: int | None = None,
    idempotency_key: str | None = None,
    senders: list[str] | None = None,
    name: str | None = None,
    confirm_repeat: bool = False,
) -> Started:
    """Preview again, apply the confirmation and tier rules, write the job and its plan, queue its
    preparation. Says whether this call created the job or found the one its key started."""
    actor = audit.actor_id(user)
    payload_fingerprint = ""
    if idempotency_key is not None:
        payload: dict[str, Any] = {
            "audience": audience.__dict__,
            "message": message,
            "channel": channel,
            "sender": sender,
        }
        if senders:  # the numbers as the job will have them, however the request wrote them
            payload["sender"] = None
            payload["senders"] = list(dict.fromkeys([*([sender] if sender else []), *senders]))
        payload_fingerprint = idempotency.fingerprint(payload)
        earlier = idempotency.earlier_job(actor, idempotency_key, payload_fingerprint)
        if earlier is not None:
            return Started(earlier, created=False)

    try:
        result, checked = _evaluate(audience, message, channel, sender, senders)
        if result.sendable == 0:
            raise FieldErrors({"audience": f"Nobody in this audience can be sent to ({_refusal_summary(result)})."})
        if not result.tier.allows:
            audit.record(
                user,
                "bulk.refused",
                "bulkjob",
                None,
                channel=result.channel,
                reason="TIER_LIMIT",
                shortfall=result.tier.shortfall,
            )
            raise _tier_refusal(result)
        _require_confirmation(result, confirm, previewed_count)
        if result.repeats and not confirm_repeat:
            raise FieldErrors({"confirmRepeat": repeat_sentence(result.repeats)})
    except (FieldErrors, Refused):
        # A concurrent start with the same key (a double click) may have written its job while this
        # one evaluated; that job, already sending, would read here as a repeat of the same message
        # (or as tier use). The person asked for one job: this request's answer is that job.
        if idempotency_key is not None:
            earlier = idempotency.earlier_job(actor, idempotency_key, payload_fingerprint)
            if earlier is not None:
                return Started(earlier, created=False)
        raise

    at = now()
    job = BulkJob(
        jobId=str(ULID()),
        createdBy=actor,
        name=job_name(name, checked["spec"], at),
        contentKey=result.content_key or None,  # an index key: never an empty string
        channel=result.channel,
        sender=result.sender,
        senders=result.senders if len(result.senders) > 1 else None,
        messageSpec=checked["spec"],
        audience=audience.describe(),
        totalRecipients=result.total,
        skippedCount=result.total - result.sendable,  # refused at preview: final already
        previewedCount=previewed_count,
        chunkCount=-(-result.sendable // CHUNK_SIZE),
        status="pending",
        createdAt=at,
        updatedAt=at,
        preparedRecipients=0,
        idempotencyKey=idempotency_key,
    )
    # The plan first: without its job it is unreachable (harmless), while a job without its plan
    # could never be prepared.
    write_all(_plan(job.jobId, result.rows))
    if idempotency_key is None:
        job.save(condition=BulkJob.jobId.does_not_exist())
    else:
        try:
            with transaction() as tx:
                tx.save(
                    idempotency.new_key_item(actor, idempotency_key, job.jobId, payload_fingerprint),
                    condition=idempotency.key_is_free(),
                    label="key",
                )
                tx.save(job, condition=BulkJob.jobId.does_not_exist(), label="job")
        except TransactWriteError as exc:
            if "key" not in tx.failed_labels(exc):
                raise
            # A concurrent start with the same key won: its job is this request's job too.
            earlier = idempotency.earlier_job(actor, idempotency_key, payload_fingerprint)
            if earlier is None:
                raise
            return Started(earlier, created=False)
    audit.record(
        user,
        "bulk.start",
        "bulkjob",
        job.jobId,
        channel=job.channel,
        sender=job.sender,
        senders=job.senders,
        total=result.total,
        sendable=result.sendable,
        refused=result.refused,
        confirmed=bool(confirm),
        name=job.name,
        repeatOf=[r.job_id for r in result.repeats] or None,
    )
    prepare_job.apply_async(args=[job.jobId])  # after the writes it depends on; routed to bulk-queue
    log.info(
        "bulk job started", extra={"job_id": job.jobId, "chunks": int(job.chunkCount), "sendable": result.sendable}
    )
    return Started(job, created=True)


# A plan item stays well under DynamoDB's 400 KB item limit however long a CSV row's parameters are.
PLAN_ITEM_BYTES = 300_000
PLAN_ITEM_ROWS = 1000


def _plan(job_id: str, rows: list[tuple[ResolvedRecipient, str | None]]) -> list[BulkPlan]:
    """The confirmed rows as plan items: the preparation task writes exactly these recipients,
    whatever the contacts table says by then."""
    pages: list[BulkPlan] = []
    current: list[list] = []
    size = 0
    first = 1
    for index, (row, reason) in enumerate(rows, start=1):
        entry = [row.row, row.contact_id, row.address or None, row.parameters, reason]
        entry_size = len(json.dumps(entry))
        if current and (size + entry_size > PLAN_ITEM_BYTES or len(current) >= PLAN_ITEM_ROWS):
            pages.append(BulkPlan(jobId=job_id, recipientId=plan_key(len(pages)), first=first, rows=current))
            current, size, first = [], 0, index
        current.append(entry)
        size += entry_size
    if current:
        pages.append(BulkPlan(jobId=job_id, recipientId=plan_key(len(pages)), first=first, rows=current))
    return pages


MAX_NAME = 80


def job_name(name: str | None, spec: dict[str, Any], at: datetime) -> str:
    """The name given, else one made of what it sends and when ("seasonal_offer · 30 Nov 19:40")."""
    given = visible_text(name or "")[:MAX_NAME]
    if given:
        return given
    template = spec.get("template") or {}
    what = template.get("name") or spec.get("subject") or visible_text(spec.get("text") or "")[:30] or "Campaign"
    return f"{what} · {at:%d %b %H:%M}"


def repeat_sentence(found: list[repeating.Repeat]) -> str:
    latest = found[0]
    people = sum(r.overlap for r in found)
    also = f" (and {len(found) - 1} other job{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
    return (
        f"The same message went to {people} of these recipients in “{latest.title}”{also} "
        f"at {latest.created_at:%d %b %H:%M} UTC, within the last {settings.BULK_REPEAT_WARNING_HOURS} h. "
        "Confirm to send it to them again."
    )


def _refusal_summary(result: Preview) -> str:
    return ", ".join(f"{reason}: {count}" for reason, count in sorted(result.refused.items())) or "no rows"


def control(job_id: str, action: str, *, user: Any) -> BulkJob:
    """Pause, resume or cancel; 409 Conflict (with the job's state) when the job is not in a
    state that allows it, including when someone else's press landed first."""
    if action not in TRANSITIONS:
        raise FieldErrors({"action": f"must be one of {', '.join(TRANSITIONS)}"})
    allowed_from, target = TRANSITIONS[action]
    job = get_job(job_id)
    if action == "resume":
        _refuse_unusable_template(job)
    at = now()
    actions = [BulkJob.status.set(target), BulkJob.updatedAt.set(at)]
    if action == "resume":
        actions.append(BulkJob.pausedReason.remove())  # the person has seen why and resumes
    if not update_if(
        job,
        actions=actions,
        condition=BulkJob.status.is_in(*allowed_from) & BulkJob.completedAt.does_not_exist(),
    ):
        job = get_job(job_id)
        raise Conflict(f"The job is {job.status}; it cannot {action} now.", field="status")
    audit.record(user, f"bulk.{action}", "bulkjob", job_id, status=target)
    if action in ("resume", "cancel"):
        # A paused job's chunks returned without waiting (no worker slot is held while paused):
        # queue the unfinished ones again, to send (resume) or to cancel their recipients. A
        # chunk that was still queued runs twice; the claims make the second run a no-op.
        for chunk_id in unfinished_chunks(job_id):
            send_chunk.apply_async(args=[job_id, chunk_id], queue="bulk-queue")
        finish_if_done(job_id)  # a job whose every recipient was final already ends now
    return get_job(job_id)


def _refuse_unusable_template(job: BulkJob) -> None:
    """409 rather than resume a job whose template WhatsApp does not accept now (paused,
    disabled, rejected…): every remaining recipient would be refused (docs/design/account-health.md)."""
    template = (job.messageSpec or {}).get("template") or {}
    if job.channel != Channel.WHATSAPP or not isinstance(template, dict) or not template.get("name"):
        return
    name, language = str(template["name"]), str(template.get("language") or "")
    found = template_catalog.find(name, language)
    if found is not None and not found.usable:
        status = str(found.templateStatus or "not approved").lower()
        raise Conflict(
            f"WhatsApp does not accept the template {name} ({language}) now: it is {status}."
            " Resume once WhatsApp approves it again, or cancel.",
            field="status",
        )


__all__ = ["CHUNK_SIZE", "TRANSITIONS", "Preview", "Started", "TierVerdict", "control", "preview", "start", "start_job"]
