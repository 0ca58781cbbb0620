"""The inbox's composer, one per channel kind: WhatsApp text or an approved template (only a
template once the 24-hour window has closed), SMS text, email with its subject. It asks
``compose_check`` before anyone types, so Send is disabled with the reason when a refusal is
certain; the send itself goes through the one send path, which stays the one decider.
docs/design/inbox.md, "The composer".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from ulid import ULID

from contacts.models import Contact
from messaging import signals
from messaging.forms import chosen_template, template_missing
from messaging.inbox import actions as wa_actions
from messaging.inbox import thread_actions
from messaging.inbox.forms import ReplyForm
from messaging.inbox.thread_forms import ThreadReplyForm
from messaging.outbound import compose_check, send, template_catalog
from messaging.threads import Thread
from messaging.whatsapp_table import WaConversation
from wecare.dynamo import now
from wecare.errors import FieldErrors, NotFound


def _whatsapp_context(item: WaConversation, contact: Contact | None, form: forms.Form | None) -> dict[str, Any]:
    window = contact.whatsapp_window_expires_at(now()) if contact else None
    form = form or ReplyForm(initial={"kind": "text" if window else "template"})
    kind = (form.data.get("kind") if form.is_bound else form.initial.get("kind")) or "text"
    if not window:
        kind = "template"  # outside the 24-hour window WhatsApp takes only approved templates
    choice = str(form.data.get("template") or "").strip()
    return {
        "reply_form": form,
        "kind": kind,
        "window": window,
        "templates": template_catalog.approved_templates() if kind == "template" else [],
        "sender": item.originationPhoneNumberId,
        # Send stays off while the template lacks a value, as on the contact page; the reasons
        # are said once a template is picked (the picker is its own prompt before that).
        "template_missing": template_missing(choice, form.data) if kind == "template" else (),
        **(chosen_template(form.data) if kind == "template" else {}),
    }


def _thread_context(item: Thread, contact: Contact | None, form: forms.Form | None) -> dict[str, Any]:
    initial = {"subject": thread_actions.reply_subject(item)} if item.channel == "email" else None
    return {
        "reply_form": form or ThreadReplyForm(initial=initial),
        "kind": "text",
        "sender": thread_actions.reply_sender(item),
    }


def context(
    channel: str, item: Any, contact: Contact | None, *, form: forms.Form | None = None, **extra: Any
) -> dict[str, Any]:
    """What ``_composer.html`` draws: the form for the channel, and whether a send would be refused
    for certain (``check``), so Send is disabled with the reason and the fix."""
    values = _whatsapp_context(item, contact, form) if channel == "whatsapp" else _thread_context(item, contact, form)
    values["check"] = compose_check.check(contact, channel, values["kind"], values["sender"])
    return {**values, **extra}


@dataclass
class Outcome:
    form: forms.Form
    sent: bool = False
    refusal: send.Refused | None = None
    warnings: tuple[str, ...] = ()  # asked of the person before sending (``signals.reply_check``)


MAX_ORIGIN = 200  # an app's token ("suggestion:<id>"); anything longer is not one


def send_reply(channel: str, item: Any, post: QueryDict, *, user: Any, conversation: str = "") -> Outcome:
    """Send what the composer posted through the one send path. A refusal is an answer (the
    gate's code and sentence on the form), not an error.

    The composer's hidden ``origin`` says where the text came from (an app that filled the box
    sets it); the outcome is announced with it (``signals.reply_sending``, ``reply_sent``,
    ``reply_refused``, ``reply_failed``), so that app can record what became of its text without
    messaging knowing it. An app may first ask the person to confirm (``signals.reply_check``):
    nothing is sent until they tick ``confirm``."""
    form: forms.Form = ReplyForm(post) if channel == "whatsapp" else ThreadReplyForm(post)
    if not form.is_valid():
        return Outcome(form)
    said = {
        "conversation": conversation,
        "origin": str(post.get("origin") or "")[:MAX_ORIGIN],
        "text": str(form.cleaned_data.get("text") or "") if form.cleaned_data.get("kind") != "template" else "",
        "user": user,
    }
    if not post.get("confirm"):
        warnings = signals.warnings(signals.reply_check, **said)
        if warnings:
            for sentence in warnings:
                form.add_error(None, sentence)
            return Outcome(form, warnings=tuple(warnings))
    said["attempt"] = str(ULID())
    signals.announce(signals.reply_sending, **said)
    try:
        if isinstance(form, ReplyForm):
            message = wa_actions.reply(item, form.request_data(), user=user)
        else:
            data = form.cleaned_data
            message = thread_actions.reply(item, text=data["text"], subject=data.get("subject"), user=user)
    except (FieldErrors, NotFound) as exc:
        for field, message_text in getattr(exc, "errors", {"contact": str(exc)}).items():
            form.add_error(None, f"{field}: {message_text}")
        signals.announce(signals.reply_refused, reason=str(exc), code="", **said)
        return Outcome(form)
    except send.Refused as exc:
        signals.announce(signals.reply_refused, reason=str(exc), code=exc.code, **said)
        return Outcome(form, refusal=exc)
    except Exception as exc:
        # Raised after the message may have been written (the audit or the queue failed): said
        # as unknown, so a listener neither records it sent nor frees its text to be sent again.
        signals.announce(signals.reply_failed, reason=f"{type(exc).__name__}: {exc}"[:300], **said)
        raise
    signals.announce(signals.reply_sent, message_id=message.messageId, **said)
    return Outcome(form, sent=True)
