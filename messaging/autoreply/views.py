"""Admin pages for the automatic WhatsApp replies: one welcome and one menu per business number
(messaging/autoreply/config.py says why per number), and the consent keyword rules of each channel
(messaging/autoreply/keyword_rules.py). Admin role only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from messaging.autoreply import config as autoreply_config
from messaging.autoreply import keyword_rules
from messaging.autoreply.forms import (
    ConsentKeywordsForm,
    MenuConfigForm,
    WelcomeConfigForm,
    format_rows,
    takes_values,
)
from messaging.outbound.template_catalog import approved_templates
from wecare.roles import Role, require_role


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


def _number(phone_number_id: str) -> str:
    if phone_number_id not in autoreply_config.tenants():
        raise Http404("not an allowlisted WhatsApp number")
    return phone_number_id


@require_role(Role.ADMIN)
def autoreply_index(request: HttpRequest) -> HttpResponse:
    numbers = [
        {"id": n, "welcome": autoreply_config.load_welcome(n), "menu": autoreply_config.load_menu(n)}
        for n in autoreply_config.tenants()
    ]
    return render(
        request, "admin/whatsapp/autoreply.html", _context(request, "WhatsApp welcome and menu", numbers=numbers)
    )


@require_role(Role.ADMIN)
def welcome_edit(request: HttpRequest, phone_number_id: str) -> HttpResponse:
    number = _number(phone_number_id)
    if request.method == "POST":
        form = WelcomeConfigForm(request.POST)
        if form.is_valid():
            autoreply_config.save_welcome(number, form.cleaned_data, user=request.user)
            messages.success(request, f"Saved the welcome for {number}.")
            return redirect("whatsapp_admin:autoreply")
    else:
        current = autoreply_config.load_welcome(number)
        form = WelcomeConfigForm(initial=_welcome_initial(current))
    templates = sorted({t.templateName for t in approved_templates() if not takes_values(t)})
    context = _context(request, f"Welcome for {number}", form=form, number=number, templates=templates)
    return render(request, "admin/whatsapp/config_form.html", context, status=422 if form.errors else 200)


@require_role(Role.ADMIN)
def menu_edit(request: HttpRequest, phone_number_id: str) -> HttpResponse:
    number = _number(phone_number_id)
    if request.method == "POST":
        form = MenuConfigForm(request.POST)
        if form.is_valid():
            autoreply_config.save_menu(number, form.cleaned_data, user=request.user)
            messages.success(request, f"Saved the menu for {number}.")
            return redirect("whatsapp_admin:autoreply")
    else:
        current = autoreply_config.load_menu(number)
        form = MenuConfigForm(initial=_menu_initial(current))
    context = _context(request, f"Menu for {number}", form=form, number=number)
    return render(request, "admin/whatsapp/config_form.html", context, status=422 if form.errors else 200)


def _welcome_initial(config: Any) -> dict[str, Any]:
    if config is None:
        return {"onlyOnFirstContact": True, "cooldownHours": 24}
    return {
        "enabled": config.enabled,
        "welcomeText": config.welcomeText or "",
        "onlyOnFirstContact": config.onlyOnFirstContact,
        "cooldownHours": int(config.cooldownHours or 0),
        "outsideWindowTemplateName": config.outsideWindowTemplateName or "",
    }


def _menu_initial(config: Any) -> dict[str, Any]:
    if config is None:
        return {"triggerKeywords": ", ".join(autoreply_config.DEFAULT_MENU_KEYWORDS), "cooldownHours": 1}
    return {
        "enabled": config.enabled,
        "triggerKeywords": ", ".join(config.triggerKeywords or autoreply_config.DEFAULT_MENU_KEYWORDS),
        "bodyText": config.bodyText or "",
        "buttonText": config.buttonText or "",
        "rows": format_rows(list(config.sections or [])),
        "cooldownHours": int(config.cooldownHours or 0),
    }


@require_role(Role.ADMIN)
def keywords_index(request: HttpRequest) -> HttpResponse:
    channels = [keyword_rules.load(channel) for channel in keyword_rules.CHANNELS]
    return render(request, "admin/whatsapp/keywords.html", _context(request, "Consent keywords", channels=channels))


@require_role(Role.ADMIN)
def keywords_edit(request: HttpRequest, channel: str) -> HttpResponse:
    if channel not in keyword_rules.CHANNELS:
        raise Http404("no consent keywords for that channel")
    if request.method == "POST":
        form = ConsentKeywordsForm(request.POST, channel=channel)
        if form.is_valid():
            keyword_rules.save(channel, form.cleaned_data, user=request.user)
            messages.success(request, f"Saved the consent keywords for {channel}.")
            return redirect("consent_admin:keywords")
    else:
        form = ConsentKeywordsForm(initial=_keywords_initial(keyword_rules.load(channel)), channel=channel)
    context = _context(request, f"Consent keywords: {channel}", form=form, channel=channel)
    return render(request, "admin/whatsapp/keywords_form.html", context, status=422 if form.errors else 200)


def _keywords_initial(rules: keyword_rules.Rules) -> dict[str, Any]:
    return {
        "optOutWords": "\n".join(rules.opt_out_words),
        "optInWords": "\n".join(rules.opt_in_words),
        "optOutButtons": "\n".join(rules.opt_out_buttons),
        "optOutConfirmation": rules.opt_out_confirmation,
        "optInConfirmation": rules.opt_in_confirmation,
    }
