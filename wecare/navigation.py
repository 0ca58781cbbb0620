"""The sidebar, with the items requirement 12 lists (docs/requirements.md). Items not built yet
are listed as coming, never as links to empty pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str | None  # None: not built yet
    children: tuple[NavItem, ...] = ()
    kwargs: tuple[tuple[str, str], ...] = ()  # the URL's arguments, when one view serves several items

    @property
    def url(self) -> str | None:
        return reverse(self.url_name, kwargs=dict(self.kwargs)) if self.url_name else None

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
        None,
        children=(
            NavItem("WhatsApp", "inbox:list"),
            NavItem("SMS", "threads:list", kwargs=(("channel", "sms"),)),
            NavItem("SES", "threads:list", kwargs=(("channel", "email"),)),
            NavItem("Templates", "messaging:templates"),
            NavItem("Usage", "messaging:usage"),
        ),
    ),
    NavItem("Contacts", "contacts:list"),
    NavItem("Bulk Messaging", "bulk:list"),
    NavItem("Agent", None),
)


def sidebar_items(request: HttpRequest) -> list[dict]:
    path = request.path
    items = []
    for item in SIDEBAR:
        url = item.url
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": bool(url and path.startswith(url)),
                "children": [{"label": c.label, "url": c.url} for c in item.children],
            }
        )
    return items
