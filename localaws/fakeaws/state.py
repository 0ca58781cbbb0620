"""What the fake remembers between requests: the calls log, refused calls, queued faults, the
templates, uploaded media, the Bedrock agent's mode, the SMS opt-out lists (`optouts.py`) and configuration sets
(`config_sets.py`), each of those two with a lock of its own.
One lock guards the rest (the server answers on many threads)."""

from __future__ import annotations

import copy
import random
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from localaws.fakeaws import config_sets, optouts, templates


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Fault:
    """The next `times` calls of `operation` (of `service`, if given) fail with this error.

    ``midway``: the call is answered, and its event stream breaks after the first event, with
    an exception frame naming ``error`` (or, for ``error`` ConnectionLost, the connection closes)."""

    operation: str
    error: str
    status: int
    message: str
    times: int = 1
    service: str | None = None
    midway: bool = False

    def matches(self, service: str, operation: str) -> bool:
        return self.operation == operation and self.service in (None, service)


@dataclass
class Latency:
    """Calls of ``operation`` (every operation when None; of ``service``, if given) wait
    ``mean_ms`` ± up to ``jitter_ms`` (uniform) before they are answered, as a real provider's do."""

    mean_ms: float
    jitter_ms: float = 0.0
    operation: str | None = None
    service: str | None = None

    def matches(self, service: str, operation: str) -> bool:
        return self.operation in (None, operation) and self.service in (None, service)

    def draw_seconds(self) -> float:
        return max(0.0, self.mean_ms + random.uniform(-self.jitter_ms, self.jitter_ms)) / 1000


class FakeState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget calls, refusals, faults, latency, media, SMS opt-outs, configuration sets and
        renamed numbers; put the seeded templates, the empty "Default" opt-out list and the agent's
        "answer" mode back."""
        with self._lock:
            self._calls: list[dict[str, Any]] = []
            self._rejected: list[dict[str, Any]] = []
            self._faults: list[Fault] = []
            self._latencies: list[Latency] = []
            self._templates = templates.seed()
            self._media: dict[str, dict[str, Any]] = {}
            self._bedrock_mode = "answer"
            self._display_names: dict[str, str] = {}
            self.opt_outs = optouts.OptOutLists(optouts.arn_prefix())
            self.config_sets = config_sets.ConfigurationSets(config_sets.arn_prefix())

    # --- calls that passed validation, and those that did not ------------------------------
    def record_call(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Log an accepted call; the caller fills in `status` and `error` once answered."""
        call = {
            "service": service,
            "operation": operation,
            "params": copy.deepcopy(params),
            "time": now_iso(),
            "status": None,
            "error": None,
        }
        with self._lock:
            self._calls.append(call)
        return call

    def finish_call(self, call: dict[str, Any], status: int, error: str | None) -> None:
        with self._lock:
            call["status"], call["error"] = status, error

    def record_rejected(
        self, service: str | None, operation: str | None, params: Any, errors: list[str], code: str
    ) -> None:
        with self._lock:
            self._rejected.append(
                {
                    "service": service,
                    "operation": operation,
                    "params": copy.deepcopy(params),
                    "errors": list(errors),
                    "error": code,
                    "time": now_iso(),
                }
            )

    def calls(self, operation: str | None = None, service: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [c for c in self._calls if operation in (None, c["operation"]) and service in (None, c["service"])]
            return copy.deepcopy(found)

    def call_count(self) -> int:
        """How many calls were logged, without copying them: a check made around each of thousands
        of examples would otherwise copy the whole growing log every time."""
        with self._lock:
            return len(self._calls)

    def rejected(self, operation: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy([r for r in self._rejected if operation in (None, r["operation"])])

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def clear_rejected(self) -> None:
        with self._lock:
            self._rejected.clear()

    # --- faults ------------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take_fault(self, service: str, operation: str) -> Fault | None:
        """The first queued fault for this call, used up once (a fault with times=3 fails 3 calls)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, operation):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- latency: the most specific rule for a call wins (operation and service, then operation) ---
    def set_latency(self, latency: Latency) -> None:
        """Replaces any rule for the same operation and service."""
        with self._lock:
            self._latencies = [
                rule
                for rule in self._latencies
                if (rule.operation, rule.service) != (latency.operation, latency.service)
            ]
            self._latencies.append(latency)

    def latency_for(self, service: str, operation: str) -> float:
        """Seconds this call waits before its answer (0 without a rule)."""
        with self._lock:
            rules = [rule for rule in self._latencies if rule.matches(service, operation)]
        if not rules:
            return 0.0
        return max(rules, key=lambda rule: (rule.operation is not None, rule.service is not None)).draw_seconds()

    def latencies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._latencies]

    def clear_latencies(self) -> None:
        with self._lock:
            self._latencies.clear()

    # --- Bedrock: how the agent answers ("answer", or "acting": a draft that tries to act) ---
    def bedrock_mode(self) -> str:
        with self._lock:
            return self._bedrock_mode

    def set_bedrock_mode(self, mode: str) -> None:
        with self._lock:
            self._bedrock_mode = mode

    # --- WhatsApp display names Meta approved since the start (phone-number id -> name) -----------
    def display_name(self, phone_number_id: str) -> str | None:
        with self._lock:
            return self._display_names.get(phone_number_id)

    def rename_number(self, phone_number_id: str, name: str) -> None:
        with self._lock:
            self._display_names[phone_number_id] = name

    # --- templates and media -----------------------------------------------------------------
    def templates(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._templates)

    def set_templates(self, new: list[dict[str, Any]]) -> None:
        with self._lock:
            self._templates = copy.deepcopy(new)

    def put_media(self, media_id: str, info: dict[str, Any]) -> None:
        with self._lock:
            self._media[media_id] = dict(info)

    def media(self, media_id: str) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._media[media_id]) if media_id in self._media else None

    def delete_media(self, media_id: str) -> None:
        with self._lock:
            self._media.pop(media_id, None)

    def forget_media(self, media_id: str | None = None) -> int:
        """Forget one uploaded media id (or all), as WhatsApp does 30 days after the upload: a
        send naming it is then refused. Returns how many were forgotten."""
        with self._lock:
            if media_id is None:
                count = len(self._media)
                self._media.clear()
                return count
            return 1 if self._media.pop(media_id, None) is not None else 0
