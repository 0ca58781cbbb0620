"""boto3 clients, pointed at the local stack when AWS_ENDPOINT_URL is set.

Credentials are never passed: boto3's default chain finds the task/instance role in production,
and the local stack's dummy keys in the environment of `make run` and of the tests.
"""

from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config
from django.conf import settings

# Services moto has no backend for; on the local stack they go to our own fake.
FAKED_SERVICES = frozenset({"socialmessaging", "pinpoint-sms-voice-v2", "bedrock-agent-runtime"})

_RETRIES = {"max_attempts": 3, "mode": "standard"}
# Senders retry themselves (exponential backoff, at most 3 retries, then failed with the
# provider's details); botocore retrying underneath would multiply the attempts.
_NO_RETRIES = {"total_max_attempts": 1, "mode": "standard"}


def endpoint_for(service: str) -> str | None:
    if service in FAKED_SERVICES:
        return settings.AWS_FAKE_ENDPOINT_URL
    return settings.AWS_ENDPOINT_URL


@cache
def _client(service: str, endpoint_url: str | None, region: str, retries: bool):
    config = Config(
        retries=_RETRIES if retries else _NO_RETRIES, max_pool_connections=settings.AWS_MAX_POOL_CONNECTIONS
    )
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def client(service: str, *, retries: bool = True):
    """A shared client for ``service`` (boto3 clients are thread-safe)."""
    return _client(service, endpoint_for(service), settings.AWS_REGION, retries)
