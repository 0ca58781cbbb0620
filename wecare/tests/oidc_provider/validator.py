from typing import ClassVar

from oauth2_provider.oauth2_validators import OAuth2Validator


class CognitoLikeValidator(OAuth2Validator):
    """Claims shaped like a Cognito user pool's: groups, email and token_use in the ID token."""

    oidc_claim_scope: ClassVar[dict[str, str]] = {
        **OAuth2Validator.oidc_claim_scope,
        # Cognito puts these in every ID token, whatever the scopes.
        "cognito:groups": "openid",
        "cognito:username": "openid",
        "token_use": "openid",
    }

    def get_additional_claims(self, request):
        user = request.user
        claims = {
            "email": user.email,
            "email_verified": True,
            "given_name": user.first_name,
            "cognito:username": user.get_username(),
            "token_use": "id",
        }
        groups = sorted(user.groups.values_list("name", flat=True))
        if groups:  # Cognito leaves the claim out for someone in no group
            claims["cognito:groups"] = groups
        return claims
