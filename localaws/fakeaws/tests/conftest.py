"""Clients for the fake: the app's own kind, and ones that skip botocore's client-side checks so
the request reaches the fake even when it is invalid (that is what the fake is for)."""

from __future__ import annotations

from functools import cache

import boto3
import pytest
from botocore.config import Config


@cache
def _client(service: str, checked: bool, url: str):
    # Cached: building a boto3 session and client costs ~0.2 s, and clients are thread-safe.
    config = Config(parameter_validation=checked, retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.session.Session().client(service, endpoint_url=url, region_name="us-east-1", config=config)


@pytest.fixture
def make_client(fake_aws_clean):
    """``make_client("socialmessaging", checked=False)``: a boto3 client on the fake that never retries."""
    return lambda service, checked=True: _client(service, checked, fake_aws_clean.url)


@pytest.fixture
def social(make_client):
    return make_client("socialmessaging", checked=False)


@pytest.fixture
def sms(make_client):
    return make_client("pinpoint-sms-voice-v2", checked=False)
