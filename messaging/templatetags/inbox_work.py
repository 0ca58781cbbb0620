"""The conversation-work partials as the inbox page includes them: the page passes the
conversation's inbox item, its key, the person and whether they may act; these tags add what the
partials need beyond that (colleagues, label suggestions, who else is here, canned replies)."""

from __future__ import annotations

from typing import Any

from django import template

from messaging.conversation_index import InboxConversation
from messaging.inbox import work_context

register = template.Library()


# takes_context: an inclusion tag's template sees only what the tag returns, and its forms need the
# page's CSRF token.
@register.inclusion_tag("messaging/inbox/work/header.html", takes_context=True)
def work_header(context: template.Context, conv: InboxConversation, user: Any, can_act: bool) -> dict[str, Any]:
    return {**work_context.header(conv, user, can_act=bool(can_act)), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("messaging/inbox/work/composer_tools.html", takes_context=True)
def work_composer_tools(context: template.Context, conv: InboxConversation, user: Any, can_act: bool) -> dict[str, Any]:
    return {**work_context.composer(conv, user, can_act=bool(can_act)), "csrf_token": context.get("csrf_token")}
