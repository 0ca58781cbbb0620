"""Start, administer and stop the test OIDC provider as a subprocess on http://localhost:<port>."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[3]
SETTINGS = "wecare.tests.oidc_provider.settings"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OIDCProvider:
    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.port = _free_port()
        # `localhost`, while the app's live server is on 127.0.0.1: the browser keeps their cookies apart.
        self.base_url = f"http://localhost:{self.port}"
        self.issuer = f"{self.base_url}/o"
        self.process: subprocess.Popen | None = None
        self._clients: dict[str, tuple[str, str]] = {}

    @property
    def endpoints(self) -> dict[str, str]:
        """The app's settings that point mozilla-django-oidc and the bearer check at this provider."""
        return {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/.well-known/jwks.json",
            "COGNITO_ISSUER": self.issuer,
        }

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "OIDC_PROVIDER_DIR": str(self.state_dir),
            "OIDC_PROVIDER_ISSUER": self.issuer,
            "PYTHONPATH": str(REPO),
        }

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "wecare.tests.oidc_provider.ctl", *args], env=self._env(), cwd=REPO, check=True
        )

    def start(self, ready_within: float = 30.0) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (self.state_dir / "key.pem").write_bytes(pem)
        self.ctl("migrate")
        with open(self.state_dir / "server.log", "wb") as log:  # read it when the provider misbehaves
            self.process = subprocess.Popen(
                [sys.executable, "-m", "django", "runserver", "--noreload", "--skip-checks", f"localhost:{self.port}"],
                env=self._env(),
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_answering(ready_within)

    def _wait_until_answering(self, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OIDC provider exited; see {self.state_dir / 'server.log'}")
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the OIDC provider did not answer; see {self.state_dir / 'server.log'}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        if self._clients.get(client_id) != (secret, redirect_uri):  # each ctl call starts Django
            self.ctl("client", client_id, secret, redirect_uri)
            self._clients[client_id] = (secret, redirect_uri)

    def set_user(self, username: str, password: str, email: str, groups: list[str]) -> None:
        """Create the provider user or replace their password, email and groups."""
        self.ctl("user", username, password, email, *groups)
