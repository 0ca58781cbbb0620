"""The one inbox at /dm/: every channel's conversations in one list (filters Mine / Unassigned /
All, status, channel, label, business number), a conversation's thread with its composer, and the
contact beside it; the fragments the page polls (every 2 s; 204 while nothing shown changed).

No GET changes anything, whatever its headers: a link on another site must not mark a customer's
messages read (nor send them read receipts). The thread, once the browser shows it to an
operator, marks what it drew read with its own POST (static/js/app.js, ``mark_read`` below).
docs/design/inbox.md.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from messaging import conversation_index, conversations
from messaging.inbox import actions, composer, details, listing, panels, thread_actions
from messaging.inbox.forms import ConsentForm, ReplyForm
from messaging.inbox.sources import BadTimes, Source, source_for
from wecare.dynamo import InvalidCursor
from wecare.errors import FieldErrors, NotFound
from wecare.roles import Role, has_role, require_role

VIEW_TABS = (("mine", "Mine"), ("unassigned", "Unassigned"), ("all", "All"))


def _load(key: str) -> tuple[Source, Any]:
    try:
        source, rest = source_for(key)
        return source, source.load(rest)
    except NotFound:
        raise Http404(key[:80]) from None


def _can_act(request: HttpRequest) -> bool:
    return has_role(request.user, Role.OPERATOR)


def _list_context(request: HttpRequest, current: str | None = None) -> dict[str, Any]:
    filters = listing.Filters.from_query(request.GET)
    cursor = request.GET.get("cursor") or ""
    page = listing.list_page(filters, username=request.user.get_username(), cursor=cursor or None)
    unread = listing.unread_total()
    return {
        "filters": filters,
        "page": page,
        "rows": listing.rows(page.items),
        "seen": listing.list_digest(page),
        "cursor": cursor,
        "current": current,
        "businesses": details.business_choices(),
        "channels": listing.CHANNELS,
        "view_tabs": VIEW_TABS,
        "statuses": listing.STATUSES,
        "unread_total": unread,
        # The sidebar's badge (messaging.context_processors) shows the same number: read it once.
        "inbox_unread": unread,
        "can_act": _can_act(request),
        "user": request.user,
    }


@require_role(Role.VIEWER)
@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _list_context(request)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    return render(request, "messaging/inbox/inbox.html", context)


@require_role(Role.VIEWER)
@require_GET
def conversations_fragment(request: HttpRequest) -> HttpResponse:
    """The polled list. Reading it marks nothing read."""
    try:
        context = _list_context(request, current=request.GET.get("current") or None)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    if request.GET.get("seen") == context["seen"]:
        return HttpResponse(status=204)
    return render(request, "messaging/inbox/_conversations.html", context)


def _thread_context(request: HttpRequest, key: str, source: Source, item: Any, **extra: Any) -> dict[str, Any]:
    contact = source.contact_for(item)
    can_act = _can_act(request)
    view = source.latest(item, can_read=can_act).with_notes(key, newest=True)
    return {
        "conv": listing.get(key),
        "conv_key": key,
        "channel": source.channel,
        "item": item,
        "customer": source.customer(item),
        "contact": contact,
        "view": view,
        "can_act": can_act,
        "user": request.user,
        **details.context(source.channel, item, contact),
        "consent_form": extra.pop("consent_form", None) or ConsentForm(),
        "composer_panels": panels.for_slot(panels.Slot.COMPOSER, key),
        "contact_panels": panels.for_slot(panels.Slot.CONTACT, key),
        **composer.context(source.channel, item, contact, form=extra.pop("reply_form", None), **extra),
    }


@require_role(Role.VIEWER)
@require_GET
def conversation_page(request: HttpRequest, key: str) -> HttpResponse:
    source, item = _load(key)
    try:
        context = _list_context(request, current=key)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    context.update(_thread_context(request, key, source, item))
    return render(request, "messaging/inbox/inbox.html", context)


@require_role(Role.VIEWER)
@require_GET
def latest_fragment(request: HttpRequest, key: str) -> HttpResponse:
    """The polled newest part of the thread."""
    source, item = _load(key)
    try:
        view = source.latest(item, since=request.GET.get("since") or None, can_read=_can_act(request))
        view.with_notes(key, newest=True)
    except BadTimes as exc:
        return HttpResponseBadRequest(str(exc))
    if request.GET.get("seen") == view.seen:
        return HttpResponse(status=204)
    return render(request, "messaging/inbox/_latest.html", {"conv_key": key, "channel": source.channel, "view": view})


@require_role(Role.VIEWER)
@require_GET
def older_fragment(request: HttpRequest, key: str) -> HttpResponse:
    source, item = _load(key)
    try:
        view = source.older(item, request.GET.get("cursor") or None).with_notes(key, newest=False)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    return render(request, "messaging/inbox/_older.html", {"conv_key": key, "channel": source.channel, "view": view})


@require_role(Role.OPERATOR)
@require_POST
def mark_read(request: HttpRequest, key: str) -> HttpResponse:
    """Mark read what the page drew (and the inbox item with it), nothing that came after."""
    source, item = _load(key)
    try:
        source.mark_read(item, request.POST, user=request.user)
    except BadTimes as exc:
        return HttpResponseBadRequest(str(exc))
    return HttpResponse(status=204)


@require_role(Role.OPERATOR)
@require_POST
def archive(request: HttpRequest, key: str) -> HttpResponse:
    """The source item's archived flag (the per-number lists and /api/inbox, /api/threads read it);
    the inbox itself lists by status."""
    source, item = _load(key)
    archived = request.POST.get("archived") != "0"
    if source.channel == "whatsapp":
        if not conversations.exists(item.pk):
            raise Http404(key[:80])  # one we started, not yet a WhatsApp conversation to archive
        actions.set_archived(item, archived, user=request.user)
    else:
        thread_actions.set_archived(item, archived, user=request.user)
    return redirect("inbox:conversation", key=key)


@require_role(Role.OPERATOR)
@require_POST
def reply(request: HttpRequest, key: str) -> HttpResponse:
    source, item = _load(key)
    if request.POST.get("action") != "send" and source.channel == "whatsapp":
        # A change of kind or template redraws the form for it, sending nothing (as compose does).
        form = ReplyForm(request.POST)
        return render(
            request,
            "messaging/inbox/_composer.html",
            _thread_context(request, key, source, item, reply_form=form, redraw=True),
        )
    outcome = composer.send_reply(source.channel, item, request.POST, user=request.user, conversation=key)
    if outcome.sent:
        response = render(
            request, "messaging/inbox/_composer.html", _thread_context(request, key, source, item, sent=True)
        )
        response["HX-Trigger"] = "message-sent"  # the thread redraws on this event
        return response
    context = _thread_context(
        request, key, source, item, reply_form=outcome.form, refusal=outcome.refusal, confirm_needed=outcome.warnings
    )
    return render(request, "messaging/inbox/_composer.html", context, status=422)


@require_role(Role.OPERATOR)
@require_POST
def consent(request: HttpRequest, key: str) -> HttpResponse:
    """Record the customer's WhatsApp opt-in from the contact pane (audited, with a note)."""
    source, item = _load(key)
    if source.channel != "whatsapp":
        raise Http404(key[:80])
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            actions.record_whatsapp_consent(item, confirmed=True, note=form.cleaned_data["note"], user=request.user)
        except (FieldErrors, NotFound) as exc:
            for field, message in getattr(exc, "errors", {"contact": str(exc)}).items():
                form.add_error(None, f"{field}: {message}")
        else:
            return redirect("inbox:conversation", key=key)
    context = _list_context(request, current=key)
    context.update(_thread_context(request, key, source, item, consent_form=form))
    return render(request, "messaging/inbox/inbox.html", context, status=422)


# --- the pages that were separate, kept as links into the one inbox ------------------------------


LEGACY_CHANNEL_FILTER = {"whatsapp": "number", "sms": "business", "email": "business"}


@require_role(Role.VIEWER)
@require_GET
def legacy_list(request: HttpRequest, channel: str) -> HttpResponse:
    """/dm/whatsapp/, /dm/sms/, /dm/email/: the inbox filtered to the channel (and number)."""
    query = f"channel={channel}"
    business = request.GET.get(LEGACY_CHANNEL_FILTER[channel])
    if business:
        query += "&" + listing.Filters(business=business).query()
    return redirect(f"{reverse('inbox:list')}?{query}")


@require_role(Role.VIEWER)
@require_GET
def legacy_conversation(request: HttpRequest, channel: str, rest: str) -> HttpResponse:
    """A conversation's old page: the same conversation in the one inbox. WhatsApp's old links
    named it by ``<suffix>~<customer>`` (or the quoted ``CONV#…`` key the staff emails carry)."""
    if channel == "whatsapp":
        key = conversation_index.key_for_whatsapp(rest)
    else:
        key = rest if rest.startswith(f"{channel}~") else f"{channel}~{rest}"
    return redirect("inbox:conversation", key=key)
