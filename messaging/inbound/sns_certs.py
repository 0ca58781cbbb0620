"""The certificates SNS signs its HTTP(S) messages with: which URLs are trusted, how a
certificate is fetched, and a small cache.

The envelope names its own certificate (``SigningCertURL``) and that field is *not* signed, so
the URL rule is what stops a forger from pointing us at a certificate of their own: only
``https://sns.<region>.amazonaws.com/SimpleNotificationService-<32 hex>.pem`` is ever fetched, for a
region botocore knows SNS in (``.amazonaws.com.cn`` for China). The rule applies whatever loader
is configured, in tests too. A fetch that fails is remembered for a minute, so a stream of
messages naming an unreachable certificate costs one blocking fetch, not one each.

The loader is a setting (``SNS_CERT_LOADER``, a dotted path) so that the local stack can read
moto's certificates (``localaws/sns_certs.py``) and tests can hand over their own; production-like
environments refuse any loader but the real HTTPS fetch.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from functools import cache, lru_cache
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

# The partitions an SNS topic we subscribe to can live in: commercial, China, GovCloud. A region
# AWS opens after the installed botocore was released is refused until boto3 is upgraded.
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# What SNS names its certificates: SimpleNotificationService-<32 hex digits>.pem at the root.
CERT_PATH = re.compile(r"/SimpleNotificationService-[0-9a-f]{32}\.pem")
AWS_LOADER = "messaging.inbound.sns_certs.fetch_from_aws"
FETCH_TIMEOUT_SECONDS = 5
MAX_CERT_BYTES = 16 * 1024  # a PEM certificate is ~2 KB; refuse to buffer anything much larger
CACHE_SIZE = 32  # SNS rotates certificates rarely; a handful of regions × versions fit easily
FAILURE_CACHE_SECONDS = 60  # long enough to absorb a burst, short enough to recover from an outage
_failure_generation = 0  # bumped by clear_cache(): forgets remembered failures without a cache scan


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
    if parts.netloc not in trusted_cert_hosts():
        raise CertificateRefused("SigningCertURL host is not sns.<region>.amazonaws.com for a region AWS has")
    if not CERT_PATH.fullmatch(parts.path) or "?" in url or "#" in url:  # even an empty query or fragment
        raise CertificateRefused("SigningCertURL path is not SimpleNotificationService-<32 hex digits>.pem")
    return url


@cache
def trusted_cert_hosts() -> frozenset[str]:
    """sns.<region>.<DNS suffix> for every region botocore's endpoint data lists SNS in."""
    suffixes = {
        p["partition"]: p["dnsSuffix"] for p in botocore.loaders.create_loader().load_data("endpoints")["partitions"]
    }
    session = boto3.session.Session()
    return frozenset(
        f"sns.{region}.{suffixes[partition]}"
        for partition in PARTITIONS
        for region in session.get_available_regions("sns", partition_name=partition)
    )


def fetch_from_aws(url: str) -> bytes:
    """The production loader: GET the certificate over HTTPS (TLS verified by requests)."""
    with requests.get(url, timeout=FETCH_TIMEOUT_SECONDS, stream=True, allow_redirects=False) as response:
        response.raise_for_status()
        body = response.raw.read(MAX_CERT_BYTES + 1, decode_content=True)
    if len(body) > MAX_CERT_BYTES:
        raise CertificateRefused("signing certificate is too large")
    return body


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
    # Failures raise, and lru_cache does not keep them: _certificate_remembering_failures does, briefly.
    try:
        pem = import_string(loader_path)(url)
        return x509.load_pem_x509_certificate(pem)
    except CertificateRefused:
        raise
    except Exception as error:  # network, HTTP status, not a PEM: all mean "cannot verify"
        raise CertificateRefused(f"signing certificate unavailable ({type(error).__name__})") from error


def _certificate_remembering_failures(loader_path: str, url: str) -> x509.Certificate:
    """``_certificate``, but a URL whose fetch failed is refused without fetching again for
    FAILURE_CACHE_SECONDS (in the Django cache: shared by the threads of a process)."""
    key = "sns-cert-failed:" + hashlib.sha256(f"{_failure_generation} {loader_path} {url}".encode()).hexdigest()
    remembered = django_cache.get(key)
    if remembered is not None:
        raise CertificateRefused(remembered)
    try:
        return _certificate(loader_path, url)
    except CertificateRefused as refusal:
        django_cache.set(key, str(refusal), FAILURE_CACHE_SECONDS)
        raise


def signing_key(url: object, at: datetime) -> RSAPublicKey:
    """The RSA public key of the certificate at ``url``, if the URL is trusted and the
    certificate is valid at ``at``."""
    checked = check_cert_url(url)
    certificate = _certificate_remembering_failures(_loader_path(), checked)
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise CertificateRefused("signing certificate is not valid at the message's time")
    key = certificate.public_key()
    if not isinstance(key, RSAPublicKey):
        raise CertificateRefused("signing certificate does not hold an RSA key")
    return key


def clear_cache() -> None:
    global _failure_generation
    _certificate.cache_clear()
    _failure_generation += 1
