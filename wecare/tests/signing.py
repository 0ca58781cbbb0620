"""Cognito-style JWTs for tests: an RSA key, its JWKS served over HTTP on loopback, and tokens
signed with it (or forged in the ways an attacker would try)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class SigningKey:
    def __init__(self, kid: str):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def jwk(self) -> dict[str, Any]:
        return {
            **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())),
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
        }

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """alg=none: no signature at all."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def hs256_with_public_key(claims: dict[str, Any], key: SigningKey) -> str:
    """The algorithm-confusion forgery: HMAC keyed with the (public) RSA key the verifier trusts."""
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key.public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def claims_for(
    issuer: str, audience: str, *, token_use: str = "id", lifetime: int = 3600, **extra: Any
) -> dict[str, Any]:
    """Claims as Cognito puts them in an ID token (aud) or an access token (client_id)."""
    issued = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": extra.pop("sub", "3f1c2a9e-0000-4000-8000-000000000001"),
        "iat": issued,
        "exp": issued + lifetime,
        "token_use": token_use,
    }
    claims["aud" if token_use == "id" else "client_id"] = audience
    return {**claims, **extra}


class UserPool:
    """A stand-in Cognito user pool on 127.0.0.1: its issuer, its JWKS at
    {issuer}/.well-known/jwks.json (only ``key`` is in it), and tokens it signs for ``client_id``."""

    def __init__(self, key: SigningKey, client_id: str):
        self.key = key
        self.client_id = client_id
        self.jwks_fetches = 0  # how often the app asked for the key set
        body = json.dumps({"keys": [key.jwk]}).encode()
        pool = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # small answers otherwise wait on delayed ACKs

            def do_GET(self) -> None:
                found = self.path == "/.well-known/jwks.json"
                pool.jwks_fetches += found
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def claims(self, token_use: str = "id", **extra: Any) -> dict[str, Any]:
        return claims_for(self.issuer, self.client_id, token_use=token_use, **extra)

    def token(self, token_use: str = "id", **extra: Any) -> str:
        return self.key.sign(self.claims(token_use, **extra))

    def __enter__(self) -> UserPool:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
