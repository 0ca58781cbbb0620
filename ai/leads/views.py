"""The Leads pages under /agent/leads/ and the lead panel at the end of the inbox's contact pane:
everyone with a role reads them; operators qualify a contact, add notes, and accept or dismiss
the lead change a suggestion proposed. Thin views over ai/leads/actions.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ai.leads import actions, queries
from ai.leads.forms import LeadForm, NoteForm
from ai.models import AIInteraction, Lead, LeadStatus
from contacts.queries import get_contact
from messaging.inbox.sources import source_for
from wecare.dynamo import InvalidCursor
from wecare.errors import Conflict, FieldErrors, NotFound
from wecare.roles import Role, has_role, require_role

PANEL = "ai/leads/_panel.html"


@require_role(Role.VIEWER)
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or LeadStatus.NEW.value
    if status not in set(LeadStatus):
        return HttpResponseBadRequest("status is one of " + ", ".join(LeadStatus))
    try:
        page = queries.by_status(status, cursor=request.GET.get("cursor") or None)
    except InvalidCursor:
        return redirect(f"{request.path}?status={status}")
    contacts = queries.contacts_of(page.items)
    rows = [{"lead": lead, "contact": contacts.get(lead.contactId)} for lead in page.items]
    context = {"rows": rows, "page": page, "status": status, "statuses": [s.value for s in LeadStatus]}
    return render(request, "ai/leads/list.html", context)


def _lead_page(request: HttpRequest, contact_id: str, form: LeadForm | None = None, status: int = 200) -> HttpResponse:
    try:
        contact = get_contact(contact_id)
    except NotFound:
        raise Http404("no such contact") from None
    lead = queries.for_contact(contact_id)
    context = {
        "contact": contact,
        "lead": lead,
        "form": form or LeadForm(initial=LeadForm.initial_for(lead)),
        "note_form": NoteForm(),
        "can_act": has_role(request.user, Role.OPERATOR),
    }
    return render(request, "ai/leads/detail.html", context, status=status)


@require_role(Role.VIEWER)
@require_GET
def lead_detail(request: HttpRequest, contact_id: str) -> HttpResponse:
    return _lead_page(request, contact_id)


@require_role(Role.OPERATOR)
@require_POST
def lead_save(request: HttpRequest, contact_id: str) -> HttpResponse:
    form = LeadForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in actions.FIELDS}
        try:
            lead = actions.save(
                contact_id, changes, expected_version=data["version"] or 0, user=request.user, note=data["note"]
            )
        except NotFound:
            raise Http404("no such contact") from None
        except FieldErrors as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved the lead: {lead.status}.")
            return redirect("ai:lead", contact_id)
    return _lead_page(request, contact_id, form, status=422)


@require_role(Role.OPERATOR)
@require_POST
def lead_note(request: HttpRequest, contact_id: str) -> HttpResponse:
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise FieldErrors({"note": f"write a note of at most {actions.MAX_NOTE} characters"})
        actions.add_note(contact_id, form.cleaned_data["note"], user=request.user)
    except NotFound:
        raise Http404("no such contact") from None
    except (FieldErrors, Conflict) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Added the note.")
    return redirect("ai:lead", contact_id)


def _panel_context(request: HttpRequest, key: str) -> dict[str, Any]:
    try:
        source, rest = source_for(key)
        # Each source loads and reads its own kind of conversation; mypy cannot pair the two.
        contact = source.contact_for(source.load(rest))  # type: ignore[arg-type]
    except NotFound:
        raise Http404("no such conversation") from None
    proposal = queries.pending_proposal(key) if contact else None
    lead = queries.for_contact(contact.contactId) if contact else None
    proposed = _proposed(proposal, lead)
    return {
        "conv_key": key,
        "contact": contact,
        "lead": lead,
        # A proposal whose values cannot apply (wrong types, out of range) is offered as none.
        "proposal": proposal if proposed is not None else None,
        "proposed": proposed or [],
        "can_act": has_role(request.user, Role.OPERATOR),
    }


def _proposed(proposal: AIInteraction | None, lead: Lead | None) -> list[dict[str, Any]] | None:
    """What the proposal would change, field by field (before and after), as the panel lists it;
    None when there is none or its values cannot apply."""
    if proposal is None:
        return None
    try:
        changes = actions.proposed_changes(proposal)
    except FieldErrors:
        return None
    return [
        {"field": field, "before": getattr(lead, field) if lead else None, "after": value}
        for field, value in changes.items()
    ]


@require_role(Role.VIEWER)
@require_GET
def lead_panel(request: HttpRequest, key: str) -> HttpResponse:
    """The contact pane's lead panel (messaging/inbox/panels.py, Slot.CONTACT)."""
    return render(request, PANEL, _panel_context(request, key))


@require_role(Role.OPERATOR)
@require_POST
def lead_proposal(request: HttpRequest, key: str, interaction_id: str, decision: str) -> HttpResponse:
    """Accept or dismiss a suggestion's lead proposal; answers the panel drawn again."""
    decide = {"accept": actions.accept_proposal, "dismiss": actions.dismiss_proposal}.get(decision)
    if decide is None:
        raise Http404("accept or dismiss")
    # The URL names a conversation: a suggestion of another one is not found here (the panel is
    # drawn for this key, so deciding on another conversation's proposal from it is a forged post).
    if not queries.in_conversation(interaction_id, key):
        raise Http404("no such suggestion in this conversation")
    error = None
    try:
        decide(interaction_id, user=request.user)
    except (NotFound, FieldErrors, Conflict) as exc:
        error = str(exc)
    if not getattr(request, "htmx", False):  # a plain form post (no script): back to the conversation
        if error:
            messages.error(request, error)
        return redirect("inbox:conversation", key)
    context = _panel_context(request, key)
    return render(request, PANEL, {**context, "error": error}, status=409 if error else 200)
