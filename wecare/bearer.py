"""Cognito JWT bearer tokens for API clients, verified against the user pool's JWKS.

Checked: RS256 signature by a key from the pool's JWKS, issuer (the pool), expiry, and that the
token was issued to our app client (``aud`` on ID tokens, ``client_id`` on access tokens).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from django.http import HttpRequest

from wecare.identity import sync_user_from_claims

log = logging.getLogger("wecare.auth")

# Where user_for_request keeps (token, user or None) on the request it verified.
_VERIFIED_ON_REQUEST = "_wecare_bearer_user"


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # Keys are cached by PyJWKClient and refetched when a token names an unknown key id.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def verify_cognito_token(token: str) -> dict[str, Any]:
    """Return the verified claims, or raise jwt.InvalidTokenError."""
    audience = settings.API_JWT_AUDIENCE
    if not audience:
        # Before anything touches the network: a token naming an unknown key id makes the JWKS
        # client fetch the key set again, and with no audience no token could pass anyway.
        raise jwt.InvalidAudienceError("API_JWT_AUDIENCE is not configured: no bearer token is accepted")
    signing_key = _jwks_client(settings.OIDC_OP_JWKS_ENDPOINT).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        issuer=settings.COGNITO_ISSUER,
        options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
        leeway=30,
    )
    token_use = claims.get("token_use")
    if token_use == "id":
        aud = claims.get("aud")
        if aud != audience and not (isinstance(aud, list) and audience in aud):
            raise jwt.InvalidAudienceError("token was issued to another client")
    elif token_use == "access":
        if claims.get("client_id") != audience:
            raise jwt.InvalidAudienceError("token was issued to another client")
    else:
        raise jwt.InvalidTokenError("token_use must be id or access")
    return claims


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, read as ninja's HttpBearer reads
    it; None for any other header or none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def user_for_request(request: HttpRequest, token: str):
    """``user_from_bearer_token``, once per request: the body limit (wecare.bodylimits) asks before
    it reads a large body, then the operation's auth asks again, and a token naming an unknown key
    id would make each ask fetch the JWKS."""
    known = getattr(request, _VERIFIED_ON_REQUEST, None)
    if known is not None and known[0] == token:
        return known[1]
    user = user_from_bearer_token(token)
    setattr(request, _VERIFIED_ON_REQUEST, (token, user))
    return user


def user_from_bearer_token(token: str):
    """The Django user a valid bearer token stands for, or None (the API answers 401)."""
    try:
        claims = verify_cognito_token(token)
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        log.warning("bearer token refused", extra={"reason": str(exc)})
        return None
    return sync_user_from_claims(claims)
