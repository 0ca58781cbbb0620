"""Admin pages naming the allowlisted business numbers and editing a WhatsApp number's business
profile (mounted under /admin/business-numbers/). Admin role only; every change is audited
(messaging/business_numbers.py, messaging/business_profile.py)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from messaging import business_numbers, business_profile
from messaging.business_number_forms import BusinessNumberForm, BusinessProfileForm, MarkAppliedForm
from wecare import audit
from wecare.roles import Role, require_role


@require_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def number_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # the "Refresh from AWS" button
        refreshed = business_numbers.refresh_from_aws()
        wanted = len([n for n in business_numbers.allowlisted() if n.channel == "whatsapp"])
        audit.record(request.user, "business_number.refresh", "business_number", None, refreshed=refreshed)
        if refreshed < wanted:
            messages.warning(
                request,
                f"Refreshed {refreshed} of {wanted} WhatsApp numbers from AWS; the log says why the others were not.",
            )
        else:
            messages.success(request, f"Refreshed {refreshed} WhatsApp numbers from AWS.")
        return redirect("business_numbers:list")
    numbers = business_numbers.allowlisted()
    # Each WhatsApp number's profile state beside its link, so a profile waiting to be applied shows.
    profiles = {n.sender: business_profile.load(n.sender).applied_state for n in numbers if n.channel == "whatsapp"}
    context = {
        **admin.site.each_context(request),
        "title": "Business numbers",
        "rows": [(n, profiles.get(n.sender, "")) for n in numbers],
    }
    return render(request, "admin/business_numbers/list.html", context)


@require_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
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


@require_role(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, sender: str) -> HttpResponse:
    """A WhatsApp number's business profile: the form, its versions, and (while a version is pending)
    how to apply it in WhatsApp Manager with the button that marks it applied (``do=applied``)."""
    number = business_numbers.get(sender)
    if number is None or number.channel != "whatsapp":
        raise Http404("not an allowlisted WhatsApp number")
    if request.method == "POST" and request.POST.get("do") == "applied":
        return _mark_applied(request, sender)
    current = business_profile.load(sender)
    form = BusinessProfileForm(request.POST or None, initial=BusinessProfileForm.initial_for(current))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            saved = business_profile.save(
                sender, form.profile_values(), expected_version=form.cleaned_data["version"], user=request.user
            )
        except business_profile.Conflict:
            form.add_error(
                None, "Someone saved this profile while you were editing it: reload the page to see their version."
            )
            status = 409
        else:
            if saved.version == current.version:
                messages.info(request, "Nothing changed: no new version.")
            else:
                messages.success(
                    request, f"Saved version {saved.version}: apply it in WhatsApp Manager, then mark it applied."
                )
            return redirect("business_numbers:profile", sender)
    context = {
        **admin.site.each_context(request),
        "title": f"Business profile of {number.label}",
        "number": number,
        "profile": current,
        "form": form,
    }
    return render(
        request, "admin/business_numbers/profile.html", context, status=422 if status == 200 and form.errors else status
    )


def _mark_applied(request: HttpRequest, sender: str) -> HttpResponse:
    form = MarkAppliedForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Which version was applied is missing.", status=422, content_type="text/plain")
    version = form.cleaned_data["version"]
    try:
        business_profile.mark_applied(sender, version=version, user=request.user)
    except business_profile.Conflict:
        messages.error(
            request,
            f"Version {version} is no longer the pending version: nothing was marked. Check the versions below.",
        )
    else:
        messages.success(request, f"Version {version} marked as applied in WhatsApp.")
    return redirect("business_numbers:profile", sender)
