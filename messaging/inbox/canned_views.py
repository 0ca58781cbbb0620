"""Admin pages for the canned replies (mounted under /admin/canned-replies/). Admin role only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from messaging.inbox import canned
from messaging.inbox.canned_forms import CannedReplyForm
from wecare.errors import Conflict, NotFound
from wecare.roles import Role, require_role


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


@require_role(Role.ADMIN)
def canned_index(request: HttpRequest) -> HttpResponse:
    context = _context(request, "Canned replies", replies=canned.all_replies(), variables=canned.VARIABLES)
    return render(request, "admin/inbox/canned.html", context)


@require_role(Role.ADMIN)
def canned_new(request: HttpRequest) -> HttpResponse:
    form = CannedReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            canned.save(form.cleaned_data["shortcut"], form.cleaned_data["text"], user=request.user, creating=True)
        except Conflict as exc:
            form.add_error("shortcut", str(exc))
        else:
            messages.success(request, f"Added /{form.cleaned_data['shortcut']}.")
            return redirect("canned_admin:index")
    context = _context(request, "New canned reply", form=form)
    return render(request, "admin/inbox/canned_form.html", context, status=422 if form.errors else 200)


@require_role(Role.ADMIN)
def canned_edit(request: HttpRequest, shortcut: str) -> HttpResponse:
    try:
        reply = canned.get(shortcut)
    except NotFound:
        raise Http404("no such canned reply") from None
    initial = {"shortcut": reply.shortcut, "text": reply.text}
    form = CannedReplyForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        canned.save(reply.shortcut, form.cleaned_data["text"], user=request.user, creating=False)
        messages.success(request, f"Saved /{reply.shortcut}.")
        return redirect("canned_admin:index")
    context = _context(request, f"Canned reply /{reply.shortcut}", form=form, reply=reply)
    return render(request, "admin/inbox/canned_form.html", context, status=422 if form.errors else 200)


@require_role(Role.ADMIN)
@require_POST
def canned_delete(request: HttpRequest, shortcut: str) -> HttpResponse:
    try:
        canned.delete(shortcut, user=request.user)
    except NotFound:
        raise Http404("no such canned reply") from None
    messages.success(request, f"Deleted /{shortcut}.")
    return redirect("canned_admin:index")
