"""The SMS opt-out lists the fake keeps (pinpoint-sms-voice-v2), reset with the rest of its state.

Each account and region of AWS End User Messaging SMS starts with one list named "Default"; so does
the fake. A number lands on a list through PutOptedOutNumber (EndUserOptedOut false) or, as when a
customer texts STOP, through the `/__fake/sms/opt-outs` control (EndUserOptedOut true).
"""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from localaws.fakeaws.account import ACCOUNT_ID

DEFAULT_LIST = "Default"


def arn_prefix() -> str:
    """What precedes a list's name in its ARN, in the region the local stack runs in."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"arn:aws:sms-voice:{region}:{ACCOUNT_ID}:opt-out-list/"


@dataclass
class OptedOut:
    number: str
    when: datetime
    end_user: bool


@dataclass
class OptOutList:
    name: str
    arn: str
    created: datetime
    numbers: dict[str, OptedOut] = field(default_factory=dict)


class OptOutLists:
    """Every list by name; one lock, as requests arrive on many server threads."""

    def __init__(self, arn_prefix: str) -> None:
        self._lock = threading.Lock()
        self._arn_prefix = arn_prefix  # arn:aws:sms-voice:<region>:<account>:opt-out-list/
        self._lists: dict[str, OptOutList] = {}
        self.create(DEFAULT_LIST)

    def create(self, name: str) -> OptOutList | None:
        """The new list, or None when one of that name exists."""
        with self._lock:
            if name in self._lists:
                return None
            self._lists[name] = OptOutList(name, self._arn_prefix + name, datetime.now(UTC))
            return copy.deepcopy(self._lists[name])

    def find(self, name_or_arn: str) -> OptOutList | None:
        """A list by its name or ARN (the API takes either)."""
        with self._lock:
            found = self._lists.get(name_or_arn.removeprefix(self._arn_prefix))
            return copy.deepcopy(found)

    def all(self) -> list[OptOutList]:
        with self._lock:
            return [copy.deepcopy(found) for _, found in sorted(self._lists.items())]

    def put(self, name: str, number: str, end_user: bool) -> OptedOut | None:
        """Add (or refresh) a number; None when there is no such list."""
        with self._lock:
            found = self._lists.get(name.removeprefix(self._arn_prefix))
            if found is None:
                return None
            found.numbers[number] = OptedOut(number, datetime.now(UTC), end_user)
            return copy.deepcopy(found.numbers[number])

    def remove(self, name: str, number: str) -> OptedOut | None:
        """Take a number off a list; None when the list or the number is not there."""
        with self._lock:
            found = self._lists.get(name.removeprefix(self._arn_prefix))
            return None if found is None else found.numbers.pop(number, None)

    def holding(self, number: str) -> list[str]:
        """The names of the lists that hold ``number``."""
        with self._lock:
            return [name for name, found in sorted(self._lists.items()) if number in found.numbers]
