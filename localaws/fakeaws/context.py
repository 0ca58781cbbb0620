"""What an operation handler gets to work with, and how it refuses a call."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3

from localaws.fakeaws.account import LinkedAccount
from localaws.fakeaws.state import FakeState


class ServiceError(Exception):
    """A modeled error of the service (`ResourceNotFoundException`, ...), answered in its protocol.

    `status` defaults to the code's httpStatusCode in the service model, else 400; `extra` are the
    error shape's other members (pinpoint-sms-voice-v2's `Reason`, `ResourceType`, `ResourceId`).
    """

    def __init__(self, code: str, message: str, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra


@dataclass
class Context:
    state: FakeState
    account: LinkedAccount
    # moto, for media that AWS would read from or write to S3; None: S3 is not touched.
    s3_endpoint_url: str | None = None
    _s3: Any = field(default=None, repr=False)
    _s3_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def s3(self):
        """A boto3 S3 client on the moto endpoint (the environment's dummy keys), or None."""
        if not self.s3_endpoint_url:
            return None
        with self._s3_lock:
            if self._s3 is None:
                region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
                self._s3 = boto3.session.Session().client("s3", endpoint_url=self.s3_endpoint_url, region_name=region)
            return self._s3
