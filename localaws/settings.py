"""Settings for the local stack (``make run``, ``make manage``): the real settings, plus the
``localaws`` app for its commands (``dev_snapshot``, ``seed_demo``, ``simulate_inbound``) and moto's
SNS signing certificate for the webhook. The dev stack sets DJANGO_SETTINGS_MODULE to this module;
deployed processes use ``wecare.settings``, which never names this package.
"""

from wecare.env import ConfigError
from wecare.settings import *  # noqa: F403
from wecare.settings import AWS_ENDPOINT_URL, BEDROCK_AGENT_ALIAS_ID, ENVIRONMENT, INSTALLED_APPS

if ENVIRONMENT != "development":
    # The image leaves this package out; a deployed environment pointed here is a mistake.
    raise ConfigError(f"localaws.settings is for the local stack only, not ENVIRONMENT={ENVIRONMENT}")

INSTALLED_APPS = [*INSTALLED_APPS, "localaws"]

if AWS_ENDPOINT_URL:
    # moto signs what its SNS delivers with a certificate of its own, served by moto itself; the
    # webhook fetches it from there (localaws/sns_certs.py) instead of from AWS over HTTPS.
    SNS_CERT_LOADER = "localaws.sns_certs.fetch_from_local_stack"

# AWS names an agent's working draft TSTALIASID in every account; the local fake's agent answers on
# it (localaws/fakeaws/bedrock.py), so the local stack and the tests need no alias of their own.
BEDROCK_AGENT_ALIAS_ID = BEDROCK_AGENT_ALIAS_ID or "TSTALIASID"
