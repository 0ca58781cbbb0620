"""Contact pages: thin views over contacts.actions / contacts.queries."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from contacts import actions, csv_io, imports, queries
from contacts.forms import ContactForm, ImportForm
from wecare.dynamo import InvalidCursor
from wecare.errors import Conflict, FieldErrors, NotFound
from wecare.http import HtmxHttpRequest
from wecare.roles import Role, has_role, require_role

CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "Email"}


@require_role(Role.VIEWER)
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    if len(q) > queries.MAX_QUERY:
        return _search_too_long()
    try:
        page = queries.search_contacts(q, cursor=request.GET.get("cursor") or None)
    except InvalidCursor:
        return redirect("contacts:list")
    context = {"page": page, "q": q, "can_write": has_role(request.user, Role.OPERATOR)}
    if request.htmx and request.htmx.target == "results":
        return render(request, "contacts/_results.html", context)
    return render(request, "contacts/list.html", context)


def _search_too_long() -> HttpResponse:
    # The search box stops at this length: only a hand-made link gets here.
    return HttpResponseBadRequest(
        f"Search text is longer than {queries.MAX_QUERY} characters: shorten it.", content_type="text/plain"
    )


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # An unticked box at creation is the default (not opted in), not a consent decision:
        # only a ticked one is recorded with who, when and from where, as in the API.
        data = {
            f: v
            for f, v in form.cleaned_data.items()
            if not (f in ContactForm.OPT_IN_FIELDS and v is False) and f != ContactForm.EVIDENCE_FIELD
        }
        try:
            contact = actions.create_contact(data, user=request.user, source="page")
        except (FieldErrors, Conflict) as exc:
            form.add_field_errors(exc.errors if isinstance(exc, FieldErrors) else {exc.field or "phone": str(exc)})
        else:
            messages.success(request, "Contact created.")
            return redirect("contacts:detail", contact_id=contact.contactId)
    return render(request, "contacts/form.html", {"form": form, "title": "New contact"})


@require_role(Role.VIEWER)
def contact_detail(request: HttpRequest, contact_id: str) -> HttpResponse:
    is_admin = has_role(request.user, Role.ADMIN)
    try:
        contact = queries.get_contact(contact_id, include_deleted=is_admin)
    except NotFound as exc:
        return render(request, "contacts/missing.html", {"reason": str(exc)}, status=404)
    return render(
        request,
        "contacts/detail.html",
        {
            "contact": contact,
            "consents": [
                (ch, label, contact.opted_in(ch), contact.consent(ch)) for ch, label in CHANNEL_LABELS.items()
            ],
            "histories": [(ch, label, queries.consent_history(contact_id, ch)) for ch, label in CHANNEL_LABELS.items()],
            "window_expires": contact.whatsapp_window_expires_at(),
            "can_write": has_role(request.user, Role.OPERATOR),
            "is_admin": is_admin,
        },
    )


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: str) -> HttpResponse:
    try:
        contact = queries.get_contact(contact_id)
    except NotFound as exc:
        return render(request, "contacts/missing.html", {"reason": str(exc)}, status=404)
    form = ContactForm.for_contact(contact, request.POST or None)
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f != ContactForm.EVIDENCE_FIELD}
        note = form.cleaned_data.get(ContactForm.EVIDENCE_FIELD) or None
        try:
            actions.update_contact(
                contact_id, changes, user=request.user, source="page", evidence={"note": note} if note else None
            )
        except (FieldErrors, Conflict) as exc:
            form.add_field_errors(exc.errors if isinstance(exc, FieldErrors) else {exc.field or "phone": str(exc)})
        except NotFound as exc:
            return render(request, "contacts/missing.html", {"reason": str(exc)}, status=404)
        else:
            messages.success(request, "Contact saved.")
            return redirect("contacts:detail", contact_id=contact_id)
    return render(request, "contacts/form.html", {"form": form, "title": "Edit contact", "contact": contact})


@require_role(Role.OPERATOR)
@require_POST
def contact_delete(request: HttpRequest, contact_id: str) -> HttpResponse:
    try:
        actions.delete_contact(contact_id, user=request.user)
    except NotFound as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Contact deleted. An admin can restore it.")
    return redirect("contacts:list")


@require_role(Role.ADMIN)
@require_POST
def contact_restore(request: HttpRequest, contact_id: str) -> HttpResponse:
    try:
        actions.restore_contact(contact_id, user=request.user)
    except (NotFound, Conflict) as exc:
        messages.error(request, f"Not restored: {exc}")
    else:
        messages.success(request, "Contact restored.")
    return redirect("contacts:detail", contact_id=contact_id)


@require_role(Role.VIEWER)
def contact_export(request: HttpRequest) -> HttpResponseBase:
    """The contacts the page's search shows (?q=, as on the list), or every live contact."""
    if len(request.GET.get("q", "").strip()) > queries.MAX_QUERY:
        return _search_too_long()
    response = StreamingHttpResponse(
        csv_io.export_rows(request.GET.get("q", "")), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response


@require_role(Role.VIEWER)
def consent_export(request: HttpRequest, contact_id: str) -> HttpResponseBase:
    """A contact's consent history on every channel, as CSV for an audit (a deleted contact's
    too, for an admin: consent given before a deletion still has to be shown)."""
    try:
        queries.get_contact(contact_id, include_deleted=has_role(request.user, Role.ADMIN))
    except NotFound as exc:
        return render(request, "contacts/missing.html", {"reason": str(exc)}, status=404)
    response = StreamingHttpResponse(csv_io.consent_history_rows(contact_id), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-{contact_id}.csv"'
    return response


@require_role(Role.OPERATOR)
@require_http_methods(["GET", "POST"])
def import_start(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload = form.cleaned_data["file"]
            job = imports.start_import(upload.read(), user=request.user, file_name=upload.name)
        except FieldErrors as exc:
            form.add_error("file", " ".join(exc.errors.values()))
        else:
            return redirect("contacts:import_status", import_id=job.importId)
    return render(request, "contacts/import.html", {"form": form})


@require_role(Role.OPERATOR)
def import_status(request: HtmxHttpRequest, import_id: str) -> HttpResponse:
    try:
        job = imports.get_import(import_id)
    except NotFound as exc:
        return render(request, "contacts/missing.html", {"reason": str(exc)}, status=404)
    # Only the progress poll gets the fragment; a boosted navigation here needs the whole page.
    polling = request.htmx and request.htmx.target == "import-progress"
    template = "contacts/_import_progress.html" if polling else "contacts/import_status.html"
    return render(request, template, {"job": job})


@require_role(Role.OPERATOR)
def import_rejected(request: HttpRequest, import_id: str) -> HttpResponseBase:
    """The rows the import refused, as a CSV to fix and import again."""
    try:
        job = imports.get_import(import_id)
    except NotFound as exc:
        return render(request, "contacts/missing.html", {"reason": str(exc)}, status=404)
    response = StreamingHttpResponse(imports.rejected_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{job.importId}.csv"'
    return response
