"""The DM → SMS and DM → SES pages: the conversations of each business number (SMS) or receiving
address (email), a conversation's timeline with its reply box, and the fragments the pages poll
(every 2 s; 204 while nothing shown has changed). As on the WhatsApp pages, no GET changes
anything: the timeline marks itself read with its own POST once shown to an operator
(static/js/app.js). docs/design/inbox.md.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from messaging.inbox import thread_actions as actions
from messaging.inbox import thread_queries as queries
from messaging.inbox.thread_forms import ThreadReplyForm
from messaging.inbox.views import ISO_TIME
from messaging.models import Message
from messaging.outbound import send
from messaging.threads import Thread
from wecare.dynamo import InvalidCursor
from wecare.errors import FieldErrors, NotFound
from wecare.roles import Role, has_role, require_role

TITLES = {"sms": "SMS", "email": "Email (SES)"}
STATUS_MARKS = {"sent": "✓", "delivered": "✓✓"}


def _load(channel: str, thread: str) -> Thread:
    try:
        return queries.get_thread(thread, channel)
    except NotFound:
        raise Http404(thread[:80]) from None


def _list_context(request: HttpRequest, channel: str, *, discover: bool = True) -> dict:
    """``discover``: find the inboxes conversations exist with (a bounded scan) beside the
    configured ones; the poll, which names its inbox, skips it."""
    inboxes = queries.inboxes(channel) if discover else queries.configured_inboxes(channel)
    chosen = request.GET.get("business") or ""
    if queries.is_inbox_name(channel, chosen) and chosen not in inboxes:
        inboxes.append(chosen)  # one the bounded discovery missed, or with no conversation yet
    business = chosen if chosen in inboxes else (inboxes[0] if inboxes else None)
    archived = request.GET.get("archived") == "1"
    cursor = request.GET.get("cursor") or ""
    page = (
        queries.list_threads(channel, business, archived=archived, cursor=cursor or None)
        if business
        else queries.ThreadPage([], None)
    )
    return {
        "channel": channel,
        "title": TITLES[channel],
        "inboxes": inboxes,
        "business": business,
        "archived": archived,
        "page": page,
        "seen": queries.list_digest(page),
        "cursor": cursor,
        "can_act": has_role(request.user, Role.OPERATOR),
    }


def _rows(page: queries.ThreadPage) -> list[tuple[Thread, str, str | None]]:
    """Each conversation with its URL name and its contact's name (read only to draw them)."""
    names = queries.contact_names(page.items)
    return [(t, queries.slug(t.threadId), names.get(t.contactId or "")) for t in page.items]


@require_role(Role.VIEWER)
@require_GET
def inbox_page(request: HttpRequest, channel: str) -> HttpResponse:
    try:
        context = _list_context(request, channel)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    return render(request, "messaging/threads/list.html", {**context, "rows": _rows(context["page"])})


@require_role(Role.VIEWER)
@require_GET
def threads_fragment(request: HttpRequest, channel: str) -> HttpResponse:
    """The polled list. Reading it marks nothing read."""
    try:
        context = _list_context(request, channel, discover=False)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    if request.GET.get("seen") == context["seen"]:
        return HttpResponse(status=204)
    return render(request, "messaging/threads/_threads.html", {**context, "rows": _rows(context["page"])})


class Shown:
    """A message as the timeline draws it."""

    def __init__(self, message: Message):
        self.message = message
        content = message.content or {}
        self.text = content.get("text") or ""
        self.subject = content.get("subject")
        self.sender_name = content.get("fromName")  # an email's From name, as the customer's mail gave it
        self.html = queries.safe_html(message)
        self.attachments = queries.attachments(message)
        self.failure = queries.failure(message)
        self.mark = STATUS_MARKS.get(message.status, "")


def _timeline_context(request: HttpRequest, thread: Thread, view: queries.Timeline) -> dict:
    context = {
        "latest": [Shown(m) for m in view.items],
        "older_cursor": view.older_cursor,
        "seen": queries.timeline_digest(view),
    }
    if has_role(request.user, Role.OPERATOR) and int(thread.unreadCount or 0) > 0:
        context["read_until"] = thread.lastAt  # the page posts this once it shows the messages
    return context


def _thread_context(request: HttpRequest, thread: Thread, **extra) -> dict:
    contact = queries.contact_for(thread)
    form = extra.pop("reply_form", None) or ThreadReplyForm(
        initial={"subject": actions.reply_subject(thread)} if thread.channel == "email" else None
    )
    return {
        "thread": thread,
        "channel": thread.channel,
        "title": TITLES[thread.channel],
        "slug": queries.slug(thread.threadId),
        "contact": contact,
        "opted_in": bool(contact and contact.opted_in(thread.channel)),
        "sender": actions.reply_sender(thread),
        "can_act": has_role(request.user, Role.OPERATOR),
        "reply_form": form,
        **extra,
    }


@require_role(Role.VIEWER)
@require_GET
def thread_page(request: HttpRequest, channel: str, thread: str) -> HttpResponse:
    item = _load(channel, thread)
    try:
        view = queries.messages(item, cursor=request.GET.get("cursor") or None)
    except InvalidCursor as exc:
        return HttpResponseBadRequest(str(exc))
    context = _thread_context(request, item, cursor=request.GET.get("cursor") or "")
    context.update(_timeline_context(request, item, view))
    return render(request, "messaging/threads/thread.html", context)


@require_role(Role.VIEWER)
@require_GET
def latest_fragment(request: HttpRequest, channel: str, thread: str) -> HttpResponse:
    """The polled newest page of the timeline."""
    item = _load(channel, thread)
    view = queries.messages(item)
    if request.GET.get("seen") == queries.timeline_digest(view):
        return HttpResponse(status=204)
    context = {"slug": queries.slug(item.threadId), "channel": channel, **_timeline_context(request, item, view)}
    return render(request, "messaging/threads/_latest.html", context)


@require_role(Role.OPERATOR)
@require_POST
def mark_read(request: HttpRequest, channel: str, thread: str) -> HttpResponse:
    """The page showed the conversation as it was at ``until`` (its lastAt): mark it read, unless
    a message came after."""
    item = _load(channel, thread)
    until = request.POST.get("until", "")
    if not ISO_TIME.match(until):
        return HttpResponseBadRequest("until must be the ISO 8601 time this page was given")
    actions.mark_read(item, seen_last_at=until, user=request.user)
    return HttpResponse(status=204)


@require_role(Role.OPERATOR)
@require_POST
def archive(request: HttpRequest, channel: str, thread: str) -> HttpResponse:
    item = _load(channel, thread)
    archived = request.POST.get("archived") != "0"
    actions.set_archived(item, archived, user=request.user)
    back = f"{reverse('threads:list', kwargs={'channel': channel})}?{urlencode({'business': item.business})}"
    return redirect(back if archived else back + "&archived=1")


@require_role(Role.OPERATOR)
@require_POST
def reply(request: HttpRequest, channel: str, thread: str) -> HttpResponse:
    item = _load(channel, thread)
    form = ThreadReplyForm(request.POST)
    refusal = None
    if form.is_valid():
        try:
            actions.reply(
                item, text=form.cleaned_data["text"], subject=form.cleaned_data.get("subject"), user=request.user
            )
        except (FieldErrors, NotFound) as exc:
            for field, message in getattr(exc, "errors", {"contact": str(exc)}).items():
                form.add_error(None, f"{field}: {message}")
        except send.Refused as exc:
            refusal = exc  # the gate's sentence, shown on the form: a refusal is an answer, not an error
        else:
            response = render(request, "messaging/threads/_reply.html", _thread_context(request, item, sent=True))
            response["HX-Trigger"] = "message-sent"  # the timeline redraws on this event
            return response
    return render(
        request,
        "messaging/threads/_reply.html",
        _thread_context(request, item, reply_form=form, refusal=refusal),
        status=422,
    )
