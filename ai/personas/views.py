"""The personas pages under /agent/personas/: everyone with a role reads them; an admin creates,
edits (a new version each time), archives, and chooses the persona each business number answers
with. Thin views over ai/personas/actions.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ai import agent_settings
from ai.models import Persona
from ai.personas import actions, queries
from ai.personas.forms import ChooseForm, PersonaForm
from messaging import business_numbers
from wecare.errors import Conflict, FieldErrors, NotFound
from wecare.roles import Role, has_role, require_role


def _numbers(personas: list[Persona]) -> list[dict[str, Any]]:
    """Each business number (and the default) with the persona it answers with."""
    chosen = agent_settings.current().personaByNumber
    by_number = chosen.as_dict() if chosen is not None else {}
    names = {p.personaId: p for p in personas}
    rows: list[dict[str, Any]] = [{"number": n, "label": business_numbers.label(n)} for n in actions.business_numbers()]
    rows.append({"number": queries.DEFAULT, "label": "Default (every number without its own choice)"})
    for row in rows:
        persona = names.get(by_number.get(row["number"], ""))
        row["persona"] = persona
        row["answers"] = persona is not None and persona.status == queries.ACTIVE
    return rows


@require_role(Role.VIEWER)
@require_GET
def persona_list(request: HttpRequest) -> HttpResponse:
    personas = queries.listing()
    context = {
        "personas": personas,
        "numbers": _numbers(personas),
        "active": [p for p in personas if p.status == queries.ACTIVE],
        "settings_version": agent_settings.current().version,
        "is_admin": has_role(request.user, Role.ADMIN),
    }
    return render(request, "ai/personas/list.html", context)


@require_role(Role.VIEWER)
@require_GET
def persona_detail(request: HttpRequest, persona_id: str) -> HttpResponse:
    version = request.GET.get("version")
    persona = queries.get(persona_id, int(version) if version and version.isdigit() else None)
    if persona is None:
        raise Http404("no such persona")
    context = {
        "persona": persona,
        "versions": queries.versions(persona_id),
        "numbers": [row for row in _numbers([persona]) if row["persona"]],
        "is_current": persona.current == "yes",
        "is_admin": has_role(request.user, Role.ADMIN),
    }
    return render(request, "ai/personas/detail.html", context)


@require_role(Role.ADMIN)
def persona_new(request: HttpRequest) -> HttpResponse:
    form = PersonaForm(request.POST or None, initial={"status": queries.ACTIVE})
    if request.method == "POST" and form.is_valid():
        try:
            persona = actions.create(form.persona_data(), user=request.user)
        except FieldErrors as exc:
            form.add_field_errors(exc.errors)
        else:
            messages.success(request, f"Created {persona.name} (version 1).")
            return redirect("ai:persona", persona.personaId)
    return _form_page(request, form, "New persona", None)


@require_role(Role.ADMIN)
def persona_edit(request: HttpRequest, persona_id: str) -> HttpResponse:
    persona = queries.get(persona_id)
    if persona is None:
        raise Http404("no such persona")
    form = PersonaForm(request.POST or None, initial=PersonaForm.initial_for(persona))
    if request.method == "POST" and ("version" in form.errors or form.cleaned_data.get("version") is None):
        # Without the version the admin saw there is nothing to check a concurrent edit against:
        # refuse rather than overwrite whatever is stored now (as the archive button does). Said
        # above the form: the version is a hidden field, whose own error nobody would see.
        form.add_error(None, "This form does not say which version you edited; reload the page and edit again.")
    if request.method == "POST" and form.is_valid():
        try:
            saved = actions.edit(
                persona_id, form.persona_data(), expected_version=form.cleaned_data["version"], user=request.user
            )
        except FieldErrors as exc:
            form.add_field_errors(exc.errors)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved {saved.name} as version {saved.version}.")
            return redirect("ai:persona", persona_id)
    return _form_page(request, form, f"Edit {persona.name}", persona)


def _form_page(request: HttpRequest, form: PersonaForm, title: str, persona: Persona | None) -> HttpResponse:
    context = {"form": form, "title": title, "persona": persona}
    return render(request, "ai/personas/form.html", context, status=422 if form.errors else 200)


@require_role(Role.ADMIN)
@require_POST
def persona_archive(request: HttpRequest, persona_id: str) -> HttpResponse:
    version = request.POST.get("version", "")
    seen = int(version) if version.isdigit() else 0
    try:
        saved = actions.archive(persona_id, expected_version=seen, user=request.user)
    except NotFound:
        raise Http404("no such persona") from None
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Archived {saved.name} (version {saved.version}).")
    return redirect("ai:persona", persona_id)


@require_role(Role.ADMIN)
@require_POST
def persona_choose(request: HttpRequest) -> HttpResponse:
    form = ChooseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a business number and a persona.")
        return redirect("ai:personas")
    data = form.cleaned_data
    try:
        actions.choose(data["number"], data["persona"] or None, user=request.user, expected_version=data["version"])
    except FieldErrors as exc:
        messages.error(request, "; ".join(exc.errors.values()))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        label = "the default" if data["number"] == queries.DEFAULT else business_numbers.label(data["number"])
        messages.success(request, f"Saved the persona for {label}.")
    return redirect("ai:personas")
