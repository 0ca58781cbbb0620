"""The certificates SNS signs its HTTP(S) messages with: which URLs are trusted, how a
certificate is fetched, and a small cache.

The envelope names its own certificate (``SigningCertURL``) and that field is *not* signed, so
the URL rule is what stops a forger from pointing us at a certificate of their own: only
``https://sns.<region>.amazonaws.com/....pem`` is ever fetched. The rule applies whatever loader
is configured, in tests too.

The loader is a setting (``SNS_CERT_LOADER``, a dotted path) so that the local stack can read
moto's certificates and tests can hand over their own; production-like environments refuse any
loader but the real HTTPS fetch.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

# China regions live under amazonaws.com.cn; anything else (a longer host that merely starts
# with this, a port, an IP address) does not match.
CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
AWS_LOADER = "messaging.sns_certs.fetch_from_aws"
LOCAL_STACK_LOADER = "messaging.sns_certs.fetch_from_local_stack"
FETCH_TIMEOUT_SECONDS = 5
MAX_CERT_BYTES = 16 * 1024  # a PEM certificate is ~2 KB; refuse to buffer anything much larger
CACHE_SIZE = 32  # SNS rotates certificates rarely; a handful of regions × versions fit easily


class CertificateRefused(Exception):
    """The signing certificate's URL breaks the rule, or the certificate cannot be used."""


def check_cert_url(url: object) -> str:
    """Return ``url`` if SNS could have issued it, else raise CertificateRefused saying why."""
    if not isinstance(url, str) or not url:
        raise CertificateRefused("SigningCertURL missing")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise CertificateRefused("SigningCertURL is not https")
    # .netloc, not .hostname: a port or user@ part must refuse the URL, not be silently dropped.
    if not CERT_HOST.match(parts.netloc):
        raise CertificateRefused("SigningCertURL host is not sns.<region>.amazonaws.com")
    if not parts.path.endswith(".pem") or "?" in url or "#" in url:  # even an empty query or fragment
        raise CertificateRefused("SigningCertURL path is not a .pem file")
    return url


def fetch_from_aws(url: str) -> bytes:
    """The production loader: GET the certificate over HTTPS (TLS verified by requests)."""
    with requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, stream=True, allow_redirects=False) as response:
        response.raise_for_status()
        body = response.raw.read(MAX_CERT_BYTES + 1, decode_content=True)
    if len(body) > MAX_CERT_BYTES:
        raise CertificateRefused("signing certificate is too large")
    return body


def fetch_from_local_stack(url: str) -> bytes:
    """The local stack's loader: moto serves the certificates it signs with at the same path.

    moto picks a service from a request's SigV4 scope, so the GET is signed as an SNS request
    (with the local stack's dummy keys); unsigned, it would be routed to moto's S3.
    """
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    if not settings.AWS_ENDPOINT_URL:
        raise ImproperlyConfigured("fetch_from_local_stack needs AWS_ENDPOINT_URL (the local moto server)")
    request = AWSRequest(method="GET", url=settings.AWS_ENDPOINT_URL.rstrip("/") + urlsplit(url).path)
    SigV4Auth(boto3.Session().get_credentials(), "sns", settings.AWS_REGION).add_auth(request)
    response = requests.get(request.url, headers=dict(request.headers), timeout=FETCH_TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.content


def _loader_path() -> str:
    path = settings.SNS_CERT_LOADER
    if settings.IS_PRODUCTION_LIKE and path != AWS_LOADER:
        # Defence in depth: settings.py never picks another loader there, but a stray override
        # must not let a deployed webhook trust certificates from anywhere but AWS.
        raise ImproperlyConfigured(f"SNS_CERT_LOADER must be {AWS_LOADER} when ENVIRONMENT={settings.ENVIRONMENT}")
    return path


@lru_cache(maxsize=CACHE_SIZE)
def _certificate(loader_path: str, url: str) -> x509.Certificate:
    # Keyed by loader too, so a test that swaps the loader never sees another loader's cert.
    # Failures raise, and lru_cache does not keep them: the next message tries again.
    try:
        pem = import_string(loader_path)(url)
        return x509.load_pem_x509_certificate(pem)
    except CertificateRefused:
        raise
    except Exception as error:  # network, HTTP status, not a PEM: all mean "cannot verify"
        raise CertificateRefused(f"signing certificate unavailable ({type(error).__name__})") from error


def signing_key(url: object, at: datetime) -> RSAPublicKey:
    """The RSA public key of the certificate at ``url``, if the URL is trusted and the
    certificate is valid at ``at``."""
    checked = check_cert_url(url)
    certificate = _certificate(_loader_path(), checked)
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise CertificateRefused("signing certificate is not valid at the message's time")
    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise CertificateRefused("signing certificate does not hold an RSA key")
    return key


def clear_cache() -> None:
    _certificate.cache_clear()
