"""WELCOME_CONFIG and MENU_CONFIG: reading them, and the audited action that saves them.

The items are keyed by tenant (``TENANT#{tenantId}#WELCOME#default``, ``…#MENU#main``). Here a
tenant is **one business phone number** (its ``phone-number-id-…``): a customer writes to a
number, and each number can greet and offer a menu in its own words (a support line and a sales
line need not say the same thing). A number with no config item sends nothing automatically.
"""

from __future__ import annotations

from typing import Any

from messaging.channels import Channel, allowed_senders
from messaging.whatsapp_table import WaMenuConfig, WaWelcomeConfig
from wecare import audit
from wecare.dynamo import now
from wecare.errors import NotFound

DEFAULT_MENU_KEYWORDS = ["menu"]


def tenants() -> list[str]:
    """The tenants an admin can configure: the allowlisted WhatsApp numbers."""
    return allowed_senders(Channel.WHATSAPP)


def check_tenant(tenant_id: str) -> str:
    if tenant_id not in tenants():
        raise NotFound(f"{tenant_id} is not an allowlisted WhatsApp number")
    return tenant_id


def welcome_key(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#WELCOME#default"


def menu_key(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#MENU#main"


def load_welcome(tenant_id: str) -> WaWelcomeConfig | None:
    try:
        item = WaWelcomeConfig.get(welcome_key(tenant_id), consistent_read=True)
    except WaWelcomeConfig.DoesNotExist:
        return None
    return item if isinstance(item, WaWelcomeConfig) else None


def load_menu(tenant_id: str) -> WaMenuConfig | None:
    try:
        item = WaMenuConfig.get(menu_key(tenant_id), consistent_read=True)
    except WaMenuConfig.DoesNotExist:
        return None
    return item if isinstance(item, WaMenuConfig) else None


def menu_spec(config: WaMenuConfig) -> dict[str, Any]:
    """The interactive list message (messaging/outbound/interactive.py) a menu config sends."""
    return {"body": config.bodyText or "", "button": config.buttonText or "", "sections": list(config.sections or [])}


def save_welcome(tenant_id: str, values: dict[str, Any], *, user: Any) -> WaWelcomeConfig:
    """Values are already validated (messaging/autoreply/forms.py)."""
    item = WaWelcomeConfig(
        pk=welcome_key(check_tenant(tenant_id)),
        tenantId=tenant_id,
        welcomeText=values["welcomeText"] or None,
        enabled=values["enabled"],
        onlyOnFirstContact=values["onlyOnFirstContact"],
        cooldownHours=values["cooldownHours"],
        outsideWindowTemplateName=values["outsideWindowTemplateName"] or None,
        receivedAt=now().isoformat(),  # when it last changed; also lists configs on the itemType index
    )
    item.save()
    audit.record(user, "whatsapp.welcome_config.set", "whatsapp_config", item.pk, **values)
    return item


def save_menu(tenant_id: str, values: dict[str, Any], *, user: Any) -> WaMenuConfig:
    item = WaMenuConfig(
        pk=menu_key(check_tenant(tenant_id)),
        tenantId=tenant_id,
        enabled=values["enabled"],
        buttonText=values["buttonText"],
        bodyText=values["bodyText"],
        sections=values["sections"],
        triggerKeywords=values["triggerKeywords"],
        cooldownHours=values["cooldownHours"],
        receivedAt=now().isoformat(),
    )
    item.save()
    audit.record(user, "whatsapp.menu_config.set", "whatsapp_config", item.pk, **values)
    return item
