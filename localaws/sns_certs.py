"""The local stack's SNS signing-certificate loader: moto serves the certificate it signs its
notifications with, so the webhook verifies moto's deliveries exactly as it verifies AWS's.

``localaws.settings`` names it as ``SNS_CERT_LOADER`` when ``AWS_ENDPOINT_URL`` points at moto; the
URL rules and the cache stay in ``messaging/inbound/sns_certs.py``, which refuses any loader but the
real HTTPS fetch in a deployed environment. See docs/design/inbound.md.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messaging.inbound.sns_certs import FETCH_TIMEOUT_SECONDS

LOCAL_STACK_LOADER = "localaws.sns_certs.fetch_from_local_stack"


def fetch_from_local_stack(url: str) -> bytes:
    """The local stack's loader: moto serves the certificates it signs with at the same path.

    moto picks a service from a request's SigV4 scope, so the GET is signed as an SNS request
    (with the local stack's dummy keys); unsigned, it would be routed to moto's S3.
    """
    if not settings.AWS_ENDPOINT_URL:
        raise ImproperlyConfigured("fetch_from_local_stack needs AWS_ENDPOINT_URL (the local moto server)")
    request = AWSRequest(method="GET", url=settings.AWS_ENDPOINT_URL.rstrip("/") + urlsplit(url).path)
    SigV4Auth(boto3.Session().get_credentials(), "sns", settings.AWS_REGION).add_auth(request)
    response = requests.get(request.url, headers=dict(request.headers), timeout=FETCH_TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.content
