"""The DM → WhatsApp pages: one inbox per business number, a conversation's timeline with its
reply box, and the fragments the pages poll (every 2 s) to stay live without a reload.

A poll answers 204 when nothing it shows has changed, so the browser keeps the page as it is.
No GET changes anything, whatever its headers: a link on another site must not mark a customer's
messages read (nor send them read receipts). The timeline, once the browser shows it to an
operator, marks what it drew read with its own POST (static/js/app.js, `mark_read` below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from messaging.forms import chosen_template
from messaging.inbox import actions, queries
from messaging.inbox.forms import ConsentForm, ReplyForm
from messaging.outbound import send, template_catalog
from messaging.whatsapp_table import WaConversation, WaMessage
from wecare.dynamo import InvalidCursor, now
from wecare.errors import FieldErrors, NotFound
from wecare.roles import Role, has_role, require_role

# How each message type is drawn: a registry, so a new type is one line and one small template.
TYPE_TEMPLATES = {
    "text": "text",
    "template": "text",
    "image": "image",
    "sticker": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "location": "location",
    "reaction": "reaction",
    "interactive": "choice",
    "button": "choice",
    "system": "text",
    "unsupported": "unsupported",
}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.+Z-]{2,30}$")
TICKS = {"sent": "✓", "delivered": "✓✓", "read": "✓✓"}


@dataclass
class Shown:
    """A message as the timeline draws it."""

    message: WaMessage
    template: str
    media_url: str | None
    failure: str | None

    @property
    def tick(self) -> str:
        return TICKS.get(self.message.deliveryStatus or "", "")


def _shown(items: list[WaMessage]) -> list[Shown]:
    return [
        Shown(
            m,
            f"messaging/inbox/types/_{TYPE_TEMPLATES.get(m.type or '', 'other')}.html",
            queries.media_link(m),
            queries.failure_reason(m),
        )
        for m in items
    ]


def _load(conversation: str) -> WaConversation:
    try:
        return queries.get_conversation(conversation)
    except NotFound:
        raise Http404(conversation) from None


def _number(request: HttpRequest) -> str:
    numbers = queries.numbers()
    chosen = request.GET.get("number")
    return chosen if chosen in numbers else numbers[0]


def _list_context(request: HttpRequest) -> dict:
    number = _number(request)
    archived = request.GET.get("archived") == "1"
    page = queries.list_conversations(number, archived=archived, cursor=request.GET.get("cursor") or None)
    rows = [(c, queries.slug(c.pk), queries.customer(c)) for c in page.items]
    return {
        "numbers": queries.numbers(),
        "number": number,
        "archived": archived,
        "page": page,
        "rows": rows,
        "seen": queries.list_digest(page),
        "cursor": request.GET.get("cursor") or "",
    }


@require_role(Role.VIEWER)
@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _list_context(request)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    return render(request, "messaging/inbox/list.html", {**context, "can_act": has_role(request.user, Role.OPERATOR)})


@require_role(Role.VIEWER)
@require_GET
def conversations_fragment(request: HttpRequest) -> HttpResponse:
    """The polled list. Reading it marks nothing read."""
    try:
        context = _list_context(request)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    if request.GET.get("seen") == context["seen"]:
        return HttpResponse(status=204)
    return render(
        request, "messaging/inbox/_conversations.html", {**context, "can_act": has_role(request.user, Role.OPERATOR)}
    )


def _latest(request: HttpRequest, conversation: WaConversation, view: queries.Timeline) -> dict:
    """The newest messages, and what the page posts to mark them read once it shows them (to an
    operator, while something shown is still unread)."""
    since = view.items[0].receivedAt if view.items else None
    context = {
        "latest": _shown(view.items),
        "older_cursor": view.older_cursor,
        "since": since or "",
        "seen": queries.timeline_digest(view),
    }
    if view.items and has_role(request.user, Role.OPERATOR) and queries.has_unread(conversation, view.items):
        context["read_until"] = view.items[-1].receivedAt
    return context


def _conversation_context(request: HttpRequest, conversation: WaConversation, **extra) -> dict:
    contact = queries.contact_for(conversation)
    window = contact.whatsapp_window_expires_at(now()) if contact else None
    reply_form = extra.pop("reply_form", None) or ReplyForm(initial={"kind": "text" if window else "template"})
    return {
        "conversation": conversation,
        "slug": queries.slug(conversation.pk),
        "phone": queries.customer(conversation),  # the number, or the WhatsApp user id
        "contact": contact,
        "window": window,
        "opted_in": bool(contact and contact.opted_in("whatsapp")),
        "can_act": has_role(request.user, Role.OPERATOR),
        **_reply_context(reply_form, window),
        "consent_form": extra.pop("consent_form", None) or ConsentForm(),
        **extra,
    }


def _reply_context(form: ReplyForm, window) -> dict:
    kind = (form.data.get("kind") if form.is_bound else form.initial.get("kind")) or "text"
    if not window:
        kind = "template"  # outside the 24-hour window WhatsApp takes only approved templates
    return {
        "reply_form": form,
        "kind": kind,
        "templates": template_catalog.approved_templates() if kind == "template" else [],
        **chosen_template(form.data),
    }


@require_role(Role.VIEWER)
@require_GET
def conversation_page(request: HttpRequest, conversation: str) -> HttpResponse:
    item = _load(conversation)
    context = _conversation_context(request, item)
    context.update(_latest(request, item, queries.timeline(item)))
    return render(request, "messaging/inbox/conversation.html", context)


@require_role(Role.VIEWER)
@require_GET
def latest_fragment(request: HttpRequest, conversation: str) -> HttpResponse:
    """The polled newest part of the timeline: everything since the oldest message it shows."""
    item = _load(conversation)
    since = request.GET.get("since") or None
    if since and not ISO_TIME.match(since):
        return HttpResponseBadRequest("since must be an ISO 8601 time this page was given")
    view = queries.timeline(item, since=since)
    if request.GET.get("seen") == queries.timeline_digest(view):
        return HttpResponse(status=204)
    context = {"slug": conversation, **_latest(request, item, view)}
    return render(request, "messaging/inbox/_latest.html", context)


@require_role(Role.VIEWER)
@require_GET
def older_fragment(request: HttpRequest, conversation: str) -> HttpResponse:
    item = _load(conversation)
    try:
        view = queries.timeline(item, cursor=request.GET.get("cursor") or None)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    return render(
        request,
        "messaging/inbox/_older.html",
        {"slug": conversation, "items": _shown(view.items), "older_cursor": view.older_cursor},
    )


@require_role(Role.OPERATOR)
@require_POST
def mark_read(request: HttpRequest, conversation: str) -> HttpResponse:
    """The page shows the messages from ``since`` to ``until``: mark those read. Only what the
    page drew, so a message that arrived after it was drawn stays unread."""
    item = _load(conversation)
    since, until = request.POST.get("since", ""), request.POST.get("until", "")
    if not (ISO_TIME.match(since) and ISO_TIME.match(until)):
        return HttpResponseBadRequest("since and until must be the ISO 8601 times this page was given")
    shown = [m for m in queries.timeline(item, since=since).items if (m.receivedAt or "") <= until]
    actions.mark_read(item, shown, user=request.user)
    return HttpResponse(status=204)


@require_role(Role.OPERATOR)
@require_POST
def archive(request: HttpRequest, conversation: str) -> HttpResponse:
    item = _load(conversation)
    archived = request.POST.get("archived") != "0"
    actions.set_archived(item, archived, user=request.user)
    number = item.originationPhoneNumberId or queries.numbers()[0]
    return redirect(f"{reverse('inbox:list')}?number={number}{'&archived=1' if not archived else ''}")


@require_role(Role.OPERATOR)
@require_POST
def reply(request: HttpRequest, conversation: str) -> HttpResponse:
    item = _load(conversation)
    form = ReplyForm(request.POST)
    if request.POST.get("action") != "send":
        # A change of kind or template redraws the form for it, sending nothing (as compose does).
        return render(
            request, "messaging/inbox/_reply.html", _conversation_context(request, item, reply_form=form, redraw=True)
        )
    refusal = None
    if form.is_valid():
        try:
            actions.reply(item, form.request_data(), user=request.user)
        except (FieldErrors, NotFound) as exc:
            for field, message in getattr(exc, "errors", {"contact": str(exc)}).items():
                form.add_error(None, f"{field}: {message}")
        except send.Refused as exc:
            refusal = exc
        else:
            response = render(request, "messaging/inbox/_reply.html", _conversation_context(request, item, sent=True))
            response["HX-Trigger"] = "message-sent"  # the timeline redraws on this event
            return response
    return render(
        request,
        "messaging/inbox/_reply.html",
        _conversation_context(request, item, reply_form=form, refusal=refusal),
        status=422,
    )


@require_role(Role.OPERATOR)
@require_POST
def consent(request: HttpRequest, conversation: str) -> HttpResponse:
    item = _load(conversation)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            actions.record_whatsapp_consent(item, confirmed=True, note=form.cleaned_data["note"], user=request.user)
        except (FieldErrors, NotFound) as exc:
            for field, message in getattr(exc, "errors", {"contact": str(exc)}).items():
                form.add_error(None, f"{field}: {message}")
        else:
            return redirect("inbox:conversation", conversation=conversation)
    context = _conversation_context(request, item, consent_form=form)
    context.update(_latest(request, item, queries.timeline(item)))
    return render(request, "messaging/inbox/conversation.html", context, status=422)
