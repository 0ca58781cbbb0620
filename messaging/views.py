"""Message pages: compose on a contact's page (with the gate's verdict before sending), the
contact's history with live status, templates, and the usage (cost) report."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from messaging import queries
from messaging.channels import unknown_channel
from messaging.forms import ComposeForm, chosen_template
from messaging.outbound import send, template_catalog
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
        name, _, language = data["template"].partition("|")
        parameters = {
            "header": _lines(data.get("header_params")),
            "body": _lines(data.get("body_params")),
            "buttons": [[value] for value in _lines(data.get("button_params"))],
        }
        if media and data.get("file"):  # the file of an image, video or document header
            parameters["headerMedia"] = {k: v for k, v in media.items() if k != "caption"}
        request["template"] = {"name": name, "language": language, "parameters": parameters}
    elif data["channel"] == "whatsapp" and kind == "media":
        request["media"] = media
    else:
        request["text"] = data.get("text")
    if data["channel"] == "email":
        request.update(subject=data.get("subject"), html=data.get("html"))
    return request


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _planned_media(form: ComposeForm) -> tuple[dict | None, Callable[[], None] | None]:
    """The media the send will name, and how to store it: under a key issued now, uploaded only
    once the gate allows (send_message calls it), so a refused send leaves nothing in the bucket."""
    upload = form.cleaned_data.get("file")
    kind = form.cleaned_data.get("kind")
    if not upload or form.cleaned_data["channel"] != "whatsapp" or kind not in ("media", "template"):
        return None, None  # a template's file is its media header's
    key, content_type = issue_key(upload.name), form.file_type
    assert content_type is not None  # the form is valid and holds a file: clean_file found its type
    media = {"s3Key": key, "contentType": content_type, "filename": upload.name[-240:]}
    if form.cleaned_data.get("caption"):
        media["caption"] = form.cleaned_data["caption"]
    return media, lambda: store(key, upload, content_type, upload.size)


def _compose_context(request: HttpRequest, contact_id: str, form: ComposeForm, **extra) -> dict:
    channel = form.data.get("channel") or form.initial.get("channel") or "whatsapp"
    return {
        "form": form,
        "contact_id": contact_id,
        "channel": channel,
        "templates": template_catalog.approved_templates() if channel == "whatsapp" else [],
        "can_send": has_role(request.user, Role.OPERATOR),
        **(chosen_template(form.data) if channel == "whatsapp" else {}),
        **extra,
    }


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest, contact_id: str) -> HttpResponse:
    channel = request.POST.get("channel") or request.GET.get("channel") or "whatsapp"
    if reason := unknown_channel(channel):
        return HttpResponseBadRequest(reason, content_type="text/plain; charset=utf-8")
    if request.method == "GET" or request.POST.get("action") != "send":
        form = ComposeForm(request.POST or None, channel=channel, initial={"channel": channel})
        return render(
            request,
            "messaging/_compose.html",
            _compose_context(request, contact_id, form, verdict=_verdict(contact_id, form)),
        )
    form = ComposeForm(request.POST, request.FILES, channel=channel)
    refusal = None
    if form.is_valid():
        media, upload_media = _planned_media(form)
        try:
            send.send_message(
                _request_data(contact_id, form, media), user=request.user, source="page", upload_media=upload_media
            )
        except FieldErrors as exc:
            for field, message in exc.errors.items():
                form.add_error(None, f"{field}: {message}")
        except send.Refused as exc:
            refusal = exc
        else:
            fresh = ComposeForm(channel=channel, initial={"channel": channel})
            response = render(
                request, "messaging/_compose.html", _compose_context(request, contact_id, fresh, sent=True)
            )
            response["HX-Trigger"] = "message-sent"  # the history panel reloads on this event
            return response
    return render(
        request, "messaging/_compose.html", _compose_context(request, contact_id, form, refusal=refusal), status=422
    )


def _verdict(contact_id: str, form: ComposeForm):
    """The gate's answer for what the form says so far, shown before the person presses Send."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        send_request = send.parse(
            _request_data(contact_id, form, {"s3Key": "pending-upload", "contentType": "image/jpeg"}),
            media_to_upload=True,
        )
    except FieldErrors:
        return None
    verdict = send.preflight(send_request, send.load_contact(contact_id))
    return {"verdict": verdict, "segments": send_request.content().get("segments")}


@require_role(Role.VIEWER)
def history(request: HttpRequest, contact_id: str) -> HttpResponse:
    items, _ = queries.list_messages(
        contact_id=contact_id, channel=None, status=None, direction=None, cursor=None, limit=50
    )
    pending = any(m.status not in FINAL for m in items)
    return render(request, "messaging/_history.html", {"items": items, "contact_id": contact_id, "pending": pending})


@require_role(Role.VIEWER)
def templates_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "messaging/templates.html",
        {"templates": template_catalog.approved_templates(), "can_sync": has_role(request.user, Role.OPERATOR)},
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
