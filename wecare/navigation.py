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
            NavItem("SMS", None),
            NavItem("SES", None),
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
        url = reverse(item.url_name) if item.url_name else None
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": bool(url and path.startswith(url)),
                "children": [
                    {"label": c.label, "url": reverse(c.url_name) if c.url_name else None} for c in item.children
                ],
            }
        )
    return items
