"""The sidebar, with the items requirement 12 lists (docs/requirements.md). Items not built yet
are listed as coming, never as links to empty pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from wecare.roles import Role, has_role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str | None  # None: not built yet
    children: tuple[NavItem, ...] = ()
    kwargs: tuple[tuple[str, str], ...] = ()  # the URL's arguments, when one view serves several items
    query: str = ""  # a filter of the page, when several items are one page filtered (the inbox's channels)
    role: Role = Role.VIEWER  # who sees it: an item a person's role cannot open is left out

    @property
    def url(self) -> str | None:
        if not self.url_name:
            return None
        return reverse(self.url_name, kwargs=dict(self.kwargs)) + (f"?{self.query}" if self.query else "")

    @property
    def built(self) -> bool:
        return self.url_name is not None


SIDEBAR: tuple[NavItem, ...] = (
    NavItem("Pay", None),
    NavItem("Link", None),
    NavItem("Forms", None),
    NavItem("Docs", None),
    NavItem("Invoice", None),
    NavItem(
        "DM",
        "inbox:list",  # the one inbox; its channels are filters of it
        children=(
            NavItem("WhatsApp", "inbox:list", query="channel=whatsapp"),
            NavItem("SMS", "inbox:list", query="channel=sms"),
            NavItem("SES", "inbox:list", query="channel=email"),
            NavItem("Templates", "messaging:templates"),
            NavItem("Usage", "messaging:usage"),
        ),
    ),
    NavItem("Contacts", "contacts:list"),
    NavItem("Bulk Messaging", "bulk:list"),
    NavItem("Agent", "ai:home"),
    NavItem(
        "Operations",
        "dashboard:home",
        children=(
            NavItem("Dashboard", "dashboard:home", role=Role.OPERATOR),
            NavItem("Alerts", "alerts:list", role=Role.OPERATOR),
        ),
        role=Role.OPERATOR,
    ),
)


def sidebar_items(request: HttpRequest) -> list[dict]:
    path = request.path
    items = []
    for item in SIDEBAR:
        if not has_role(request.user, item.role):
            continue
        url = item.url
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": bool(url and path.startswith(url)),
                "children": [{"label": c.label, "url": c.url} for c in item.children if has_role(request.user, c.role)],
                "inbox": item.url_name == "inbox:list",  # the DM entry shows the inbox's unread count
            }
        )
    return items
