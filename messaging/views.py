"""Message pages: compose on a contact's page (with the gate's verdict before sending), the
contact's history with live status, templates, and the usage (cost) report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from contacts import actions as contact_actions
from contacts.models import OPT_IN_FIELDS, Contact
from messaging import queries, voice_calls
from messaging.channels import Channel, unknown_channel
from messaging.forms import ComposeForm, ConsentForm, chosen_template, template_request
from messaging.outbound import compose_check, send, template_catalog
from messaging.outbound.compose_check import ComposeCheck
from messaging.outbound.media import issue_key, store
from messaging.outbound.records import FINAL
from wecare import audit
from wecare.errors import FieldErrors
from wecare.roles import Role, has_role, require_role


def _request_data(contact_id: str, form: ComposeForm, media: dict | None) -> dict:
    data = form.cleaned_data
    request = {"contactId": contact_id, "channel": data["channel"], "sender": data.get("sender")}
    kind = data.get("kind") or "text"
    if data["channel"] == "whatsapp" and kind == "template" and data.get("template"):
        template = template_request(data["template"], form.data)
        if media and data.get("file"):  # the file of an image, video or document header
            template["parameters"]["headerMedia"] = {k: v for k, v in media.items() if k not in ("caption", "size")}
        request["template"] = template
    elif data["channel"] == "whatsapp" and kind == "media":
        request["media"] = media
    else:
        request["text"] = data.get("text")
    if data["channel"] == "email":
        request.update(subject=data.get("subject"), html=data.get("html"))
    return request


# The send's fields as a person knows them, for an error that names one.
FIELD_LABELS = {"text": "Message", "subject": "Subject", "html": "HTML", "media": "File", "template": "Template"}


def _planned_media(form: ComposeForm) -> tuple[dict | None, Callable[[], None] | None]:
    """The media the send will name, and how to store it: under a key issued now, uploaded only
    once the gate allows (send_message calls it), so a refused send leaves nothing in the bucket."""
    upload = form.cleaned_data.get("file")
    kind = form.cleaned_data.get("kind")
    if not upload or form.cleaned_data["channel"] != "whatsapp" or kind not in ("media", "template"):
        return None, None  # a template's file is its media header's
    key, content_type = issue_key(upload.name), form.file_type
    assert content_type is not None  # the form is valid and holds a file: clean_file found its type
    media = {"s3Key": key, "contentType": content_type, "filename": upload.name[-240:], "size": upload.size}
    if form.cleaned_data.get("caption"):
        media["caption"] = form.cleaned_data["caption"]
    return media, lambda: store(key, upload, content_type, upload.size)


def _checks(contact: Contact | None, kind: str, sender: str | None, channel: str) -> dict[str, ComposeCheck]:
    """The gate's early answer for every channel, so the form can disable the closed ones."""
    return {
        c.value: compose_check.check(
            contact, c.value, kind if c.value == channel else "text", sender if c.value == channel else None
        )
        for c in Channel
    }


def _channel_and_kind(request: HttpRequest, contact: Contact | None) -> tuple[str, str, dict[str, ComposeCheck]]:
    """The channel and kind to show: the ones asked for, unless the gate closes them. With no
    channel asked for, the first that is open; WhatsApp outside the window offers only templates."""
    data = request.POST if request.method == "POST" else request.GET
    asked = data.get("channel") or ""
    kind = data.get("kind") or "text"
    checks = _checks(contact, kind, data.get("sender"), asked)
    channel = asked or next((c for c, check in checks.items() if not check.channel_closed), "whatsapp")
    allowed = checks[channel].kinds_allowed
    if kind not in allowed:
        kind = allowed[0]
        checks = _checks(contact, kind, data.get("sender"), channel)
    return channel, kind, checks


def _compose_context(
    request: HttpRequest, contact: Contact | None, contact_id: str, form: ComposeForm, **extra
) -> dict:
    channel, kind, checks = _channel_and_kind(request, contact)
    return {
        "form": form,
        "contact_id": contact_id,
        "contact": contact,
        "channel": channel,
        "kind": kind,
        "checks": checks,
        "check": checks[channel],
        "verdict": _verdict(contact_id, form, checks[channel], kind),
        "templates": template_catalog.approved_templates() if channel == "whatsapp" else [],
        "can_send": has_role(request.user, Role.OPERATOR),
        "consent_form": extra.pop("consent_form", None) or ConsentForm(initial={"channel": channel}),
        **(chosen_template(form.data) if channel == "whatsapp" and kind == "template" else {}),
        **extra,
    }


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest, contact_id: str) -> HttpResponse:
    channel = request.POST.get("channel") or request.GET.get("channel") or ""
    if channel and (reason := unknown_channel(channel)):
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    contact = send.load_contact(contact_id)
    if request.method == "GET" or request.POST.get("action") != "send":
        shown, _, _ = _channel_and_kind(request, contact)
        form = ComposeForm(request.POST or None, channel=shown, initial={"channel": shown})
        context = _compose_context(request, contact, contact_id, form, **_consent_asked(request))
        return render(request, "messaging/_compose.html", context)
    channel = channel or "whatsapp"
    form = ComposeForm(request.POST, request.FILES, channel=channel)
    refusal = None
    send_errors: list[tuple[str, str]] = []
    if form.is_valid():
        media, upload_media = _planned_media(form)
        try:
            send.send_message(
                _request_data(contact_id, form, media), user=request.user, source="page", upload_media=upload_media
            )
        except FieldErrors as exc:
            send_errors = [(field, _said(field, message)) for field, message in exc.errors.items()]
        except send.Refused as exc:
            refusal = exc
        else:
            fresh = ComposeForm(channel=channel, initial={"channel": channel})
            context = _compose_context(request, send.load_contact(contact_id), contact_id, fresh, sent=True)
            response = render(request, "messaging/_compose.html", context)
            response["HX-Trigger"] = "message-sent"  # the history panel reloads on this event
            return response
    context = _compose_context(request, contact, contact_id, form, refusal=refusal, send_errors=send_errors)
    return render(request, "messaging/_compose.html", context, status=422)


def _consent_asked(request: HttpRequest) -> dict:
    """A composer elsewhere (the inbox) links to this page with ``?consent=<channel>``: the panel,
    loaded by htmx, opens that channel's consent form (htmx names the page in HX-Current-URL)."""
    page = urlsplit(request.headers.get("HX-Current-URL") or "")
    channel = (parse_qs(page.query).get("consent") or [""])[0]
    if unknown_channel(channel):
        return {}
    return {"consent_open": True, "consent_form": ConsentForm(initial={"channel": channel})}


def _said(field: str, message: str) -> str:
    """A send's field error as a person reads it: the template's own errors are sentences; the
    others are a field's name and what is wrong with it."""
    if message[:1].isupper():
        return message
    return f"{FIELD_LABELS.get(field, field)}: {message}"


@require_role(Role.OPERATOR)
@require_POST
def compose_verdict(request: HttpRequest, contact_id: str) -> HttpResponse:
    """The check the composer asks for as values are typed: the gate's answer and whether Send is
    enabled, as the #verdict fragment (nothing is claimed or written)."""
    channel = request.POST.get("channel") or ""
    if reason := unknown_channel(channel):
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    contact = send.load_contact(contact_id)
    _, kind, checks = _channel_and_kind(request, contact)
    form = ComposeForm(request.POST, channel=channel)
    verdict = _verdict(contact_id, form, checks[channel], kind)
    return render(request, "messaging/_verdict.html", {"verdict": verdict, "check": checks[channel]})


@dataclass(frozen=True)
class Verdict:
    """What the composer shows under the form: may Send be pressed, and if not, why."""

    sendable: bool
    sentences: tuple[str, ...] = ()
    refused: bool = False  # the gate refuses (not only something left to fill in)
    code: str | None = None
    segments: dict | None = None


def _verdict(contact_id: str, form: ComposeForm, check: ComposeCheck, kind: str) -> Verdict:
    """The gate's answer for what the form says so far, shown before the person presses Send:
    Send is disabled while a refusal is certain (the gate's, or values the template lacks)."""
    if not check.allowed:
        return Verdict(False, (check.sentence,), refused=True, code=check.code)
    if not form.is_bound or not form.is_valid():
        return Verdict(False)
    data = form.cleaned_data
    if kind == "template" and not data.get("template"):
        return Verdict(False, ("Pick an approved template.",))
    if kind == "text" and not (data.get("text") or "").strip():
        return Verdict(False)
    try:
        send_request = send.parse(
            _request_data(contact_id, form, {"s3Key": "pending-upload", "contentType": "image/jpeg"}),
            media_to_upload=True,
        )
    except FieldErrors as exc:
        return Verdict(False, tuple(_said(field, message) for field, message in exc.errors.items()))
    verdict = send.preflight(send_request, send.load_contact(contact_id))
    segments = send_request.content().get("segments")
    if not verdict.allowed:
        code = verdict.reason.value if verdict.reason else None
        return Verdict(False, (verdict.message,), refused=True, code=code, segments=segments)
    return Verdict(True, segments=segments)


@require_role(Role.OPERATOR)
@require_POST
def compose_consent(request: HttpRequest, contact_id: str) -> HttpResponse:
    """Record, from the composer, that the customer agreed to a channel (with how they agreed),
    through the contact's one consent path; then the composer redraws on that channel."""
    if reason := unknown_channel(request.POST.get("channel") or ""):
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    form = ConsentForm(request.POST)
    if form.is_valid():
        channel = form.cleaned_data["channel"]
        try:
            contact_actions.update_contact(
                contact_id,
                {OPT_IN_FIELDS[channel]: True},
                user=request.user,
                source="page",
                evidence={"note": form.cleaned_data["note"]},
            )
        except FieldErrors as exc:
            for message in exc.errors.values():
                form.add_error(None, message)
        else:
            # The redraw shows the channel just opened (the POST names it).
            fresh = ComposeForm(channel=channel, initial={"channel": channel})
            context = _compose_context(request, send.load_contact(contact_id), contact_id, fresh, consented=channel)
            return render(request, "messaging/_compose.html", context)
    contact = send.load_contact(contact_id)
    empty = ComposeForm(channel=request.POST["channel"])
    context = _compose_context(request, contact, contact_id, empty, consent_form=form, consent_open=True)
    return render(request, "messaging/_compose.html", context, status=422)


CALLS_SHOWN = 20  # on the contact page; the rest through GET /api/voice-calls?contactId=
MAX_CONTACT_ID = 64  # contact ids are ULIDs (26 characters)


@require_role(Role.VIEWER)
def history(request: HttpRequest, contact_id: str) -> HttpResponse:
    items, _ = queries.list_messages(
        contact_id=contact_id, channel=None, status=None, direction=None, cursor=None, limit=50
    )
    pending = any(m.status not in FINAL for m in items)
    return render(request, "messaging/_history.html", {"items": items, "contact_id": contact_id, "pending": pending})


@require_role(Role.VIEWER)
def calls(request: HttpRequest, contact_id: str) -> HttpResponse:
    """The contact's WhatsApp voice calls, newest first, for the contact page (nothing when none)."""
    if len(contact_id) > MAX_CONTACT_ID:  # no contact has one; DynamoDB would refuse the key
        return render(request, "messaging/_calls.html", {"items": []})
    page = voice_calls.list_calls(contact_id=contact_id, limit=CALLS_SHOWN)
    return render(request, "messaging/_calls.html", {"items": page.items, "more": bool(page.next_cursor)})


@require_role(Role.VIEWER)
def templates_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "messaging/templates.html",
        {
            # Each with its text, the variables marked where values go.
            "templates": [(t, template_catalog.render(t, None)) for t in template_catalog.approved_templates()],
            "unusable": template_catalog.unusable_templates(),
            "can_sync": has_role(request.user, Role.OPERATOR),
        },
    )


@require_role(Role.OPERATOR)
@require_POST
def templates_sync(request: HttpRequest) -> HttpResponse:
    template_catalog.sync_templates_task.delay()
    audit.record(request.user, "templates.sync", "templates", None)
    flash.success(request, "Template sync queued; refresh in a moment.")
    return redirect("messaging:templates")


@require_role(Role.VIEWER)
def usage_page(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/usage.html", {"rows": queries.usage(14)})
