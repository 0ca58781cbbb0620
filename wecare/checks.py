"""System checks: warn at start-up about integrations that are half configured."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register


@register()
def check_integrations(app_configs, **kwargs):
    problems = []
    if settings.SEND_MODE == "LIVE" and not settings.WHATSAPP_PHONE_NUMBER_IDS:
        problems.append(
            Warning(
                "SEND_MODE=LIVE with an empty WHATSAPP_PHONE_NUMBER_IDS: no WhatsApp sender is allowed",
                id="wecare.W001",
            )
        )
    # Without COGNITO_DOMAIN the default endpoints are relative paths ("/oauth2/authorize"), which
    # no browser can log in through; explicit absolute OIDC_OP_* endpoints are the alternative.
    if (
        settings.OIDC_ENABLED
        and not settings.COGNITO_DOMAIN
        and not settings.OIDC_OP_AUTHORIZATION_ENDPOINT.startswith(("https://", "http://"))
    ):
        problems.append(
            Warning("OIDC is on but COGNITO_DOMAIN is empty: set it or the OIDC_OP_* endpoints", id="wecare.W002")
        )
    if settings.ENVIRONMENT == "production" and not settings.BEDROCK_AGENT_ALIAS_ID:
        problems.append(
            Warning("BEDROCK_AGENT_ALIAS_ID is empty: AI suggestions cannot call the agent", id="wecare.W003")
        )
    # Every bulk email carries an unsubscribe link to SITE_URL (contacts/unsubscribe.py); without
    # it each one fails at send time, so say it at start-up instead.
    if settings.ENVIRONMENT == "production" and not settings.SITE_URL:
        problems.append(
            Warning("SITE_URL is empty: bulk email cannot carry its unsubscribe link and is not sent", id="wecare.W004")
        )
    return problems
