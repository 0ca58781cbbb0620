"""Bulk Messaging pages: the job list, the new-job wizard, and a job's live progress. The
wizard's state lives in the person's session, not in hidden fields (docs/design/bulk-sending.md
says why); every step is computed again by bulk.actions.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from bulk import actions, funnel, idempotency, queries, reports
from bulk.audience import AUDIENCE_SENTENCES, AudienceSpec, template_columns
from bulk.forms import AudienceForm, ConfirmForm, MessageForm
from bulk.models import FINAL_RECIPIENT_STATUSES, BulkJob
from messaging import business_numbers
from messaging.channels import unknown_channel
from messaging.forms import chosen_template
from messaging.outbound import gate, template_catalog
from messaging.outbound.send import Refused
from wecare import audit
from wecare.dynamo import InvalidCursor, now
from wecare.errors import Conflict, FieldErrors, NotFound
from wecare.http import HtmxHttpRequest
from wecare.roles import Role, has_role, require_role

WIZARD = "bulk_wizard"
FINAL_JOB_STATUSES = ("completed", "cancelled", "failed")
REPORT_WAIT = timedelta(minutes=5)  # after the end, the page keeps asking for the report this long
# Deliveries, reads and replies keep arriving after a job ends: its funnel refreshes this long after.
FUNNEL_WATCH = timedelta(days=2)


# --- the job list -------------------------------------------------------------------------------


@require_role(Role.VIEWER)
def job_list(request: HttpRequest) -> HttpResponse:
    try:
        page = queries.list_jobs(request.GET.get("cursor") or None)
    except InvalidCursor:
        return redirect("bulk:list")
    return render(request, "bulk/list.html", {"page": page, "can_start": has_role(request.user, Role.OPERATOR)})


# --- the wizard: audience -> message -> preview and confirmation ---------------------------------


def _wizard(request: HttpRequest) -> dict:
    return request.session.get(WIZARD) or {}


def _save_wizard(request: HttpRequest, **parts) -> None:
    request.session[WIZARD] = {**_wizard(request), **parts}


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def new_audience(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and "fresh" in request.GET:
        request.session.pop(WIZARD, None)
    saved = _wizard(request).get("audience_form")
    form = AudienceForm(request.POST or None, request.FILES or None, initial=saved or None)
    if request.method == "POST" and form.is_valid():
        kept = {k: v for k, v in form.cleaned_data.items() if k != "csv_file"}  # the file's text is in csv_text
        _save_wizard(request, audience=form.audience(), audience_form=kept)
        return redirect("bulk:new_message")
    return render(request, "bulk/new_audience.html", {"form": form, "step": 1})


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def new_message(request: HttpRequest) -> HttpResponse:
    wizard = _wizard(request)
    if "audience" not in wizard:
        return redirect("bulk:new")
    data = request.POST if request.method == "POST" else None
    initial = wizard.get("message_form") or {"channel": "whatsapp", "kind": "text"}
    channel = (data or initial).get("channel") or "whatsapp"
    if reason := unknown_channel(channel):
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    csv = wizard["audience"].get("csv")
    form = MessageForm(
        data,
        channel=channel,
        initial=initial,
        chosen_sender=(data or initial).get("sender"),
        csv_columns=template_columns(csv) if csv else None,
    )
    # Changing the channel, kind or template only redraws the step (htmx); "Next" moves on.
    if data is not None and data.get("action") == "next" and form.is_valid():
        _save_wizard(request, message=form.message(), message_form=form.kept(), name=form.cleaned_data["name"])
        return redirect("bulk:new_preview")
    shown = data or initial
    # The picked template's variables, a field each, with the live preview the composers have.
    template = chosen_template(shown) if channel == "whatsapp" else {}
    if template and form.csv_columns:
        template["template_fields"] = form.with_csv_hints(template["template_fields"])
        template["template_rendered"] = form.csv_rendered(shown)
    context = {
        "form": form,
        "step": 2,
        "channel": channel,
        "kind": shown.get("kind") or "text",
        "chosen": shown.get("template") or "",
        "values": shown,
        "also_from": data.getlist("also_from") if data is not None else initial.get("also_from") or [],
        "templates": template_catalog.approved_templates() if channel == "whatsapp" else [],
        "csv_audience": bool(csv),
        "csv_columns": form.csv_columns,
        **template,
    }
    return render(request, "bulk/new_message.html", context)


def _job_inputs(wizard: dict) -> tuple[AudienceSpec, dict, dict]:
    message = dict(wizard["message"])
    where = {
        "channel": message.pop("channel"),
        "sender": message.pop("sender"),
        "senders": message.pop("senders", None),  # a WhatsApp campaign on several numbers
    }
    return AudienceSpec.from_dict(wizard["audience"]), message, where


def _start_key(request: HttpRequest) -> str:
    """One idempotency key per wizard session, sent back in a hidden field: a double-clicked
    Start (two POSTs of the same page) makes one job (bulk/idempotency.py)."""
    wizard = _wizard(request)
    if "start_key" not in wizard:
        _save_wizard(request, start_key=str(uuid.uuid4()))
    return _wizard(request)["start_key"]


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def new_preview(request: HttpRequest) -> HttpResponse:
    posted_key = request.POST.get("start_key") or "" if request.method == "POST" else ""
    wizard = _wizard(request)
    if "audience" not in wizard or "message" not in wizard:
        # A second submit after the first one started the job (and cleared the wizard): that job.
        earlier = idempotency.job_for_key(audit.actor_id(request.user), posted_key) if posted_key else None
        if earlier is not None:
            return redirect("bulk:detail", job_id=earlier.jobId)
        return redirect("bulk:new" if "audience" not in wizard else "bulk:new_message")
    audience, message, where = _job_inputs(wizard)
    start_key = _start_key(request)
    confirm = ConfirmForm(request.POST or None)
    errors: dict[str, str] = {}
    refusal = None
    if request.method == "POST" and confirm.is_valid():
        expected = confirm.cleaned_data["expected"]
        ticked = confirm.cleaned_data["confirm"]
        try:
            started = actions.start(
                audience,
                message,
                **where,
                user=request.user,
                confirm=ticked,
                previewed_count=expected,
                idempotency_key=posted_key or start_key,
                name=wizard.get("name"),
                confirm_repeat=confirm.cleaned_data["confirm_repeat"],
            )
        except FieldErrors as exc:
            errors = exc.errors
            if "confirm" in errors:  # the API's wording names its fields; a person needs the box
                errors["confirm"] = (
                    "Tick the box to confirm the number of recipients: more than the threshold get a message."
                )
            if "confirmRepeat" in errors:
                errors["confirmRepeat"] += " Tick “Send it to them again” to go ahead."
        except Conflict as exc:  # the posted key started another job (a stale tab): start afresh
            errors = {"start_key": str(exc)}
        except Refused as exc:
            refusal = exc
        else:
            request.session.pop(WIZARD, None)
            job = started.job
            if started.created:
                messages.success(
                    request,
                    f"Job “{job.title}” started: {job.totalRecipients - job.skippedCount} recipients to send to.",
                )
            return redirect("bulk:detail", job_id=job.jobId)
    try:
        preview = actions.preview(audience, message, **where, user=request.user)
    except FieldErrors as exc:
        # The audience or message no longer checks out (a CSV column, a template's values):
        # shown on the preview step with a way back to fix it, nothing is started.
        return render(request, "bulk/new_preview.html", {"step": 3, "problems": exc.errors}, status=422)
    status = 422 if (errors or refusal) else 200
    context = {
        "step": 3,
        "preview": preview,
        "message": message,
        **_template_text(message.get("template"), preview),
        "errors": errors,
        "refusal": refusal,
        "start_key": start_key,
        "refused_rows": _refused_rows(preview),
        "refused_total": preview.total - preview.sendable,
        "room": preview.tier.business_initiated - preview.tier.shortfall,
        "estimate": _duration(preview.estimated_seconds),
        "campaign_name": wizard.get("name") or "",
        "repeat_hours": settings.BULK_REPEAT_WARNING_HOURS,
    }
    return render(request, "bulk/new_preview.html", context, status=status)


def _template_text(template: dict | None, preview: actions.Preview) -> dict:
    """A template as the customer reads it, with the values typed; when a CSV gives each recipient
    their own values (which replace the typed ones, as bulk.sending does), as its first sendable
    row reads it, and which row that is."""
    if not template:
        return {"message_text": "", "message_row": None}
    row = next((r for r, reason in preview.rows if reason is None and r.parameters), None)
    if row is None or row.parameters is None:
        return {"message_text": template_catalog.sent_text(template), "message_row": None}
    parameters = {**(template.get("parameters") or {}), **row.parameters}
    return {"message_text": template_catalog.sent_text({**template, "parameters": parameters}), "message_row": row.row}


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"about {max(1, round(seconds))} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"about {minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min"


def _reason_sentence(code: str, channel: str, sender: str | None) -> str:
    """A refusal's reason as a person reads it: the audience's or the gate's plain sentence for
    many contacts; "" for a code with none (a provider's failure code), which is shown as is."""
    address = "email address" if channel == "email" else "phone number"
    words = {"address": address, "channel": channel, "sender": business_numbers.label(sender) if sender else ""}
    if code in AUDIENCE_SENTENCES:
        return AUDIENCE_SENTENCES[code].format(**words)
    return gate.summary(gate.Reason(code), **words) if code in gate.Reason.__members__ else ""


def _refused_rows(preview: actions.Preview) -> list[tuple[str, int, str]]:
    """(reason code, rows, the sentence a single send would show) for the preview, largest first."""
    return [
        (code, count, _reason_sentence(code, preview.channel, preview.sender))
        for code, count in sorted(preview.refused.items(), key=lambda item: -item[1])
    ]


# --- one job: live progress, controls, report, recipients ---------------------------------------


def _job_or_404(request: HttpRequest, job_id: str) -> BulkJob | HttpResponse:
    try:
        return queries.get_job(job_id)
    except NotFound as exc:
        return render(request, "bulk/missing.html", {"reason": str(exc)}, status=404)


def _progress_context(request: HttpRequest, job: BulkJob) -> dict:
    progress = queries.progress(job)
    ended = job.status in FINAL_JOB_STATUSES
    waiting_for_report = ended and not job.reportKey and (job.completedAt or job.updatedAt) > now() - REPORT_WAIT
    controls = (
        [a for a, (starts, _) in actions.TRANSITIONS.items() if job.status in starts]
        if has_role(request.user, Role.OPERATOR)
        else []
    )
    # Paused or cancelled: what was already with the provider still goes, and the page says how much.
    stopping = job.status in ("paused", "cancelled") and job.completedAt is None
    in_flight = queries.in_flight(job.jobId) if stopping else 0
    return {
        "job": job,
        "progress": progress,
        "ended": ended,
        "polling": not ended or waiting_for_report,
        # A paused job with nothing in flight changes only when someone resumes it: ask less often.
        "poll_every": "10s" if job.status == "paused" and not in_flight else "2s",
        "in_flight": in_flight,
        "controls": controls,
        "cursor": request.GET.get("cursor") or "",
    }


@require_role(Role.VIEWER)
def job_detail(request: HtmxHttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    if not isinstance(job, BulkJob):
        return job
    context = _progress_context(request, job)
    try:
        recipients = queries.recipients(job_id, context["cursor"] or None)
    except InvalidCursor:
        return redirect("bulk:detail", job_id=job_id)
    # Each recipient with its reason in words (the code stays in the row's data-reason).
    said = [
        (r, _reason_sentence(r.reason, job.channel, r.sender or job.sender) if r.reason else "")
        for r in recipients.items
    ]
    context = {**context, "recipients": recipients, "said": said, "final_statuses": FINAL_RECIPIENT_STATUSES}
    # Only the progress poll gets the fragment (with the recipients' page, swapped out of band so
    # the table follows the counts); a boosted navigation here needs the whole page.
    if request.htmx and request.htmx.target == "job-progress":
        return render(request, "bulk/_poll.html", context)
    return render(request, "bulk/detail.html", context)


@require_role(Role.VIEWER)
def job_funnel(request: HttpRequest, job_id: str) -> HttpResponse:
    """The funnel fragment, loaded by the job page after it is drawn and again while messages move."""
    job = _job_or_404(request, job_id)
    if not isinstance(job, BulkJob):
        return job
    recent = job.completedAt is None or job.completedAt > now() - FUNNEL_WATCH
    return render(request, "bulk/_funnel.html", {"job": job, "funnel": funnel.funnel(job), "polling": recent})


@require_role(Role.OPERATOR)
@require_POST
def job_control(request: HttpRequest, job_id: str) -> HttpResponse:
    action = request.POST.get("action", "")
    try:
        job = actions.control(job_id, action, user=request.user)
    except NotFound as exc:
        return render(request, "bulk/missing.html", {"reason": str(exc)}, status=404)
    except (Conflict, FieldErrors) as exc:
        messages.error(request, f"Not done: {exc}")
    else:
        messages.success(request, _control_sentence(action, queries.in_flight(job.jobId) if action != "resume" else 0))
        job_id = job.jobId
    return redirect("bulk:detail", job_id=job_id)


PAST_TENSE = {"pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def _control_sentence(action: str, in_flight: int) -> str:
    """What a press did, and what it cannot stop: messages already with the provider still go."""
    done = PAST_TENSE.get(action, action).capitalize()
    if action == "resume":
        return f"{done}: sending again."
    if in_flight:
        them = "message" if in_flight == 1 else "messages"
        return f"{done}. {in_flight} {them} already with the provider will still go."
    return f"{done}. Nothing more goes out{' until you resume' if action == 'pause' else ''}."


@require_role(Role.VIEWER)
def job_report(request: HttpRequest, job_id: str) -> HttpResponseBase:
    """The per-recipient CSV, streamed from the report bucket through the app, so the same role
    check applies as on the page (a presigned link would work for anyone holding it)."""
    job = _job_or_404(request, job_id)
    if not isinstance(job, BulkJob):
        return job
    if not job.reportKey:
        return render(request, "bulk/missing.html", {"reason": "The report for this job is not ready yet."}, status=404)
    return reports.report_download(job)
