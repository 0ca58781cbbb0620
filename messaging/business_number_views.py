"""Admin pages naming the allowlisted business numbers (mounted under /admin/business-numbers/).
Admin role only; every save is audited (messaging/business_numbers.py)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from messaging import business_numbers
from messaging.business_number_forms import BusinessNumberForm
from wecare.roles import Role, require_role


@require_role(Role.ADMIN)
def number_list(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Business numbers",
        "numbers": business_numbers.allowlisted(),
    }
    return render(request, "admin/business_numbers/list.html", context)


@require_role(Role.ADMIN)
def number_edit(request: HttpRequest, sender: str) -> HttpResponse:
    current = business_numbers.get(sender)
    if current is None:
        raise Http404("not an allowlisted sender")
    form = BusinessNumberForm(request.POST or None, initial={"name": current.name, "phone": current.phone})
    if request.method == "POST" and form.is_valid():
        saved = business_numbers.save(sender, **form.cleaned_data, user=request.user)
        messages.success(request, f"Saved: {sender} is shown as “{saved.label}”.")
        return redirect("business_numbers:list")
    context = {**admin.site.each_context(request), "title": f"Name {current.label}", "form": form, "number": current}
    return render(request, "admin/business_numbers/form.html", context, status=422 if form.errors else 200)
