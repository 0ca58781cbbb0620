"""The OIDC backend's ID-token check: only a token our user pool signed for this client, this
login and this moment gets through."""

import pytest
from django.core.exceptions import SuspiciousOperation

from wecare.oidc import CognitoOIDCBackend
from wecare.tests.signing import SigningKey, hs256_with_public_key, unsigned

NONCE = "nonce-of-this-login"


@pytest.fixture
def verify(user_pool):
    # The backend reads its settings when created, so create it after user_pool set them.
    return lambda token, nonce=NONCE: CognitoOIDCBackend().verify_token(token, nonce=nonce)


def test_it_accepts_an_id_token_from_the_pool_for_this_client_and_login(verify, user_pool):
    claims = verify(user_pool.token(nonce=NONCE, email="asha@example.com", **{"cognito:groups": ["Operator"]}))
    assert claims["email"] == "asha@example.com"
    assert claims["cognito:groups"] == ["Operator"]


def test_it_refuses_a_token_from_another_issuer(verify, user_pool):
    with pytest.raises(SuspiciousOperation):
        verify(user_pool.token(nonce=NONCE, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"))


def test_it_refuses_a_token_issued_to_another_client(verify, user_pool):
    with pytest.raises(SuspiciousOperation):
        verify(user_pool.token(nonce=NONCE, aud="some-other-client"))


def test_it_refuses_an_expired_token(verify, user_pool):
    # Well past the verifier's clock-skew leeway.
    with pytest.raises(SuspiciousOperation):
        verify(user_pool.token(nonce=NONCE, iat=1_600_000_000, exp=1_600_003_600))


def test_it_refuses_a_token_signed_by_another_key_under_the_pools_key_id(verify, user_pool):
    impostor = SigningKey(user_pool.key.kid)
    with pytest.raises(SuspiciousOperation):
        verify(impostor.sign(user_pool.claims(nonce=NONCE)))


def test_it_refuses_a_token_signed_by_a_key_the_pool_does_not_publish(verify, user_pool):
    stranger = SigningKey("not-in-the-jwks")
    with pytest.raises(SuspiciousOperation):
        verify(stranger.sign(user_pool.claims(nonce=NONCE)))


def test_it_refuses_a_token_minted_for_another_login(verify, user_pool):
    with pytest.raises(SuspiciousOperation):
        verify(user_pool.token(nonce="nonce-of-another-login"))


def test_it_refuses_a_token_without_a_nonce(verify, user_pool):
    with pytest.raises(SuspiciousOperation):
        verify(user_pool.token())


def test_it_refuses_an_unsigned_token(verify, user_pool):
    with pytest.raises(SuspiciousOperation):
        verify(unsigned(user_pool.claims(nonce=NONCE), kid=user_pool.key.kid))


def test_it_refuses_an_hs256_token_keyed_with_the_pools_public_key(verify, user_pool):
    with pytest.raises(SuspiciousOperation):
        verify(hs256_with_public_key(user_pool.claims(nonce=NONCE), user_pool.key))


def test_it_refuses_a_token_without_an_expiry(verify, user_pool):
    claims = user_pool.claims(nonce=NONCE)
    del claims["exp"]
    with pytest.raises(SuspiciousOperation):
        verify(user_pool.key.sign(claims))


def test_it_refuses_something_that_is_not_a_jwt(verify):
    with pytest.raises(SuspiciousOperation):
        verify("not-a-token")
