"""Login through Cognito's hosted UI (OIDC authorization code flow, mozilla-django-oidc).

The ID token is checked in full here: RS256 signature by a key from the pool's JWKS, issuer,
audience (our client id), expiry and the nonce of this login. ``cognito:groups`` from the
verified token decides the role, refreshed at each login.
"""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from wecare.bearer import _jwks_client
from wecare.identity import sync_user_from_claims, username_from_claims


class CognitoOIDCBackend(OIDCAuthenticationBackend):
    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        try:
            key = _jwks_client(self.OIDC_OP_JWKS_ENDPOINT).get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.COGNITO_ISSUER,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                leeway=30,
            )
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from None
        if self.get_settings("OIDC_USE_NONCE", True) and claims.get("nonce") != kwargs.get("nonce"):
            raise SuspiciousOperation("ID token refused: nonce does not match this login")
        return claims

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        # cognito:groups is in the verified ID token, not in the userinfo answer.
        return {**super().get_userinfo(access_token, id_token, payload), **payload}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        # Anyone the pool vouches for may log in; without a role group they see the no-role page.
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]):
        return self.UserModel.objects.filter(username=username_from_claims(claims))

    def create_user(self, claims: dict[str, Any]):
        return sync_user_from_claims(claims)

    def update_user(self, user, claims: dict[str, Any]):
        return sync_user_from_claims(claims)
