"""The SMS configuration sets the fake keeps (pinpoint-sms-voice-v2) and their event destinations,
reset with the rest of its state. The fake publishes no events to them: they exist so that
bootstrap can create what a deployment needs and find it again (docs/local-stack.md).
"""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localaws.fakeaws.account import ACCOUNT_ID


def arn_prefix() -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"arn:aws:sms-voice:{region}:{ACCOUNT_ID}:configuration-set/"


@dataclass
class ConfigurationSet:
    name: str
    arn: str
    created: datetime
    destinations: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> EventDestination


class ConfigurationSets:
    """Every configuration set by name; one lock, as requests arrive on many server threads."""

    def __init__(self, arn_prefix: str) -> None:
        self._lock = threading.Lock()
        self._arn_prefix = arn_prefix
        self._sets: dict[str, ConfigurationSet] = {}

    def create(self, name: str) -> ConfigurationSet | None:
        """The new set, or None when one of that name exists."""
        with self._lock:
            if name in self._sets:
                return None
            self._sets[name] = ConfigurationSet(name, self._arn_prefix + name, datetime.now(UTC))
            return copy.deepcopy(self._sets[name])

    def find(self, name_or_arn: str) -> ConfigurationSet | None:
        with self._lock:
            return copy.deepcopy(self._sets.get(name_or_arn.removeprefix(self._arn_prefix)))

    def all(self) -> list[ConfigurationSet]:
        with self._lock:
            return [copy.deepcopy(found) for _, found in sorted(self._sets.items())]

    def add_destination(self, name: str, destination: dict[str, Any]) -> ConfigurationSet | bool | None:
        """The set with ``destination`` added; None when there is no such set, False when the set
        has a destination of that name already."""
        with self._lock:
            found = self._sets.get(name.removeprefix(self._arn_prefix))
            if found is None:
                return None
            if destination["EventDestinationName"] in found.destinations:
                return False
            found.destinations[destination["EventDestinationName"]] = copy.deepcopy(destination)
            return copy.deepcopy(found)
