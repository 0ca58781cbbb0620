"""A real OpenID Connect provider for the login tests, standing in for Cognito's hosted UI.

django-oauth-toolkit in a Django project of its own, run as a subprocess on loopback by
``harness.OIDCProvider``. Its ID tokens are RS256 and carry ``cognito:groups`` and ``email``
like Cognito's, so the app's OIDC backend is exercised exactly as in production.
"""
