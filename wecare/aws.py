"""boto3 clients, pointed at the local stack when AWS_ENDPOINT_URL is set.

Credentials are never passed: boto3's default chain finds the task/instance role in production,
and the local stack's dummy keys in the environment of `make run` and of the tests.
"""

from __future__ import annotations

import os
from threading import Lock
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings

# Services moto has no backend for; on the local stack they go to our own fake.
FAKED_SERVICES = frozenset({"socialmessaging", "pinpoint-sms-voice-v2", "bedrock-agent-runtime", "bedrock-runtime"})

_RETRIES = Config(retries={"max_attempts": 3, "mode": "standard"})
# Senders retry themselves (exponential backoff, at most 3 retries, then failed with the
# provider's details); botocore retrying underneath would multiply the attempts.
_NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})

# One boto3 session per process and one client per (service, endpoint, configuration): a new
# session costs a hundred milliseconds or more of CPU (it loads and parses the service models
# again), a client from an existing one a few. boto3 clients are thread-safe, sessions are not:
# both are only created under the lock.
_lock = Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple, Any] = {}


def forget_clients() -> None:
    """Drop this process's session and clients: the next ``client`` call builds fresh ones."""
    global _session, _lock
    _lock = Lock()
    _session = None
    _clients.clear()


# A forked worker process (Celery prefork) must not share its parent's connections.
os.register_at_fork(after_in_child=forget_clients)


def endpoint_for(service: str) -> str | None:
    if service in FAKED_SERVICES:
        return settings.AWS_FAKE_ENDPOINT_URL
    return settings.AWS_ENDPOINT_URL


def shared_client(service: str, *, region: str, endpoint_url: str | None, config: Config, kind: str):
    """This process's one client for ``service`` at ``endpoint_url`` with the configuration
    ``kind`` names (``config``: the same ``kind`` always comes with the same configuration)."""
    global _session
    key = (service, endpoint_url, region, kind)
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                if _session is None:
                    _session = boto3.session.Session()
                # Connections kept open for reuse: one per thread that may call at once (a bulk
                # chunk's pool, a threads-pool worker), so none opens and drops one per call.
                pool = Config(max_pool_connections=settings.AWS_MAX_POOL_CONNECTIONS)
                found = _clients[key] = _session.client(
                    service, region_name=region, endpoint_url=endpoint_url, config=config.merge(pool)
                )
    return found


# DynamoDB validates every request itself; botocore checking each one against the service model
# first is CPU spent per request for nothing (PynamoDB switches it off for its clients too).
_DYNAMODB = _RETRIES.merge(Config(parameter_validation=False))


def client(service: str, *, retries: bool = True):
    """A shared client for ``service`` (boto3 clients are thread-safe)."""
    if service == "dynamodb" and retries:
        config, kind = _DYNAMODB, "dynamodb"
    else:
        config, kind = (_RETRIES, "retries") if retries else (_NO_RETRIES, "no-retries")
    return shared_client(
        service, region=settings.AWS_REGION, endpoint_url=endpoint_for(service), config=config, kind=kind
    )
