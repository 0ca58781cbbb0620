"""The conversation-work fragments and actions under /dm/work/: the header's poll, assign, status,
undo, labels, presence, private notes, and the search page. Thin views over ownership, labels,
presence, notes and search; operators act, viewers read (403 from the access middleware).

An action answers with the header fragment (``#work-header``) whatever happened: the change and its
Undo, or, 409, the sentence naming what someone else did first, drawn over the current state.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from messaging.conversation_index import InboxConversation
from messaging.inbox import labels, notes, ownership, presence, search, work_context
from wecare.errors import FieldErrors, NotFound
from wecare.roles import Role, has_role, require_role

HEADER = "messaging/inbox/work/header.html"


def conversation_url(key: str) -> str:
    """Where the inbox shows a conversation (the inbox page's own URL name, when it has one)."""
    try:
        return reverse("inbox:conversation", kwargs={"key": key})
    except NoReverseMatch:
        return f"/dm/{key}/"


def _conv(key: str) -> InboxConversation:
    try:
        return ownership.get(key)
    except NotFound:
        raise Http404("no such conversation") from None


def _header(request: HttpRequest, conv: InboxConversation, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = work_context.header(
        conv, request.user, can_act=has_role(request.user, Role.OPERATOR), opened=request.POST.get("opened"), **extra
    )
    return render(request, HEADER, context, status=status)


@require_role(Role.VIEWER)
@require_GET
def live(request: HttpRequest, conversation: str) -> HttpResponse:
    conv = _conv(conversation)
    context = work_context.live(
        conv, request.user, can_act=has_role(request.user, Role.OPERATOR), opened=request.GET.get("opened")
    )
    if request.GET.get("seen") == context["seen"]:
        return HttpResponse(status=204)
    return render(request, "messaging/inbox/work/_live.html", context)


def _act(request: HttpRequest, conversation: str, change: Any) -> HttpResponse:
    """Run one ownership change and answer with the header: the change and its Undo, or the
    sentence of what someone did first (409), or what is wrong with the input (422)."""
    conv = _conv(conversation)
    try:
        done = change(conv)
    except ownership.Changed as exc:
        return _header(request, conv, status=409, notice=str(exc), conflict=True)
    except FieldErrors as exc:
        return _header(request, conv, status=422, notice="; ".join(exc.errors.values()), conflict=True)
    if isinstance(done, ownership.Change):
        return _header(request, done.conversation, notice=done.sentence, undo_token=done.undo_token)
    return _header(request, done)


@require_role(Role.OPERATOR)
@require_POST
def assign(request: HttpRequest, conversation: str) -> HttpResponse:
    to, expected = request.POST.get("assignee") or None, request.POST.get("expected") or None
    return _act(request, conversation, lambda c: ownership.assign(c, to, expected=expected, user=request.user))


@require_role(Role.OPERATOR)
@require_POST
def set_status(request: HttpRequest, conversation: str) -> HttpResponse:
    status, expected = request.POST.get("status", ""), request.POST.get("expected", "")
    return _act(request, conversation, lambda c: ownership.set_status(c, status, expected=expected, user=request.user))


@require_role(Role.OPERATOR)
@require_POST
def undo(request: HttpRequest, conversation: str) -> HttpResponse:
    token = request.POST.get("token", "")
    return _act(request, conversation, lambda c: ownership.undo(c.key, token, user=request.user))


@require_role(Role.OPERATOR)
@require_POST
def change_labels(request: HttpRequest, conversation: str) -> HttpResponse:
    def change(conv: InboxConversation) -> InboxConversation:
        if request.POST.get("remove"):
            return labels.remove(conv, request.POST["remove"], user=request.user)
        return labels.add(conv, request.POST.get("add", ""), user=request.user)

    return _act(request, conversation, change)


@require_role(Role.VIEWER)
@require_POST
def touch_presence(request: HttpRequest, conversation: str) -> HttpResponse:
    """The page is open (every few seconds) or its person is typing; ``leave`` when it closes."""
    conv = _conv(conversation)
    if request.POST.get("leave"):
        presence.leave(conv.key, request.user)
    else:
        typing = request.POST.get("typing") == "1" and has_role(request.user, Role.OPERATOR)
        presence.touch(conv.key, request.user, typing=typing)
    return HttpResponse(status=204)


@require_role(Role.OPERATOR)
@require_POST
def add_note(request: HttpRequest, conversation: str) -> HttpResponse:
    """A private note. The page's script posts it and gets the note drawn (201); without the
    script the form posts and comes back to the conversation."""
    conv = _conv(conversation)
    scripted = request.headers.get("X-Work-Note") == "1"
    try:
        note = notes.add(conv.key, request.POST.get("text", ""), user=request.user)
    except FieldErrors as exc:
        return HttpResponse("; ".join(exc.errors.values()), status=422, content_type="text/plain")
    if not scripted:
        return redirect(conversation_url(conv.key))
    return render(request, "messaging/inbox/work/_note.html", {"note": note}, status=201)


@require_role(Role.VIEWER)
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[: search.MAX_QUERY]
    hits = [(hit, conversation_url(hit.conversation.key)) for hit in search.search(query)] if query else []
    return render(request, "messaging/inbox/work/search.html", {"search_query": query, "hits": hits})
