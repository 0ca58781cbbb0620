"""Strict readers for environment variables.

Settings are read once, in ``wecare/settings.py``, through these helpers. A malformed value never
falls back silently to a default: it raises ``ConfigError`` naming the variable and what is
expected, and the entry points (manage.py, wsgi, celery) print that one line and exit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable


class ConfigError(Exception):
    """A required environment variable is missing or malformed."""


_MISSING = object()


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | object = _MISSING) -> str:
    value = _raw(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise ConfigError(f"{name} is required and not set")
    return str(default)


def env_bool(name: str, default: bool | object = _MISSING) -> bool:
    value = _raw(name)
    if value is None:
        if default is _MISSING:
            raise ConfigError(f"{name} is required and not set (expected true or false)")
        return bool(default)
    if value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise ConfigError(f"{name}={value!r} is not valid: expected true or false")


def env_int(name: str, default: int | object = _MISSING, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        if default is _MISSING:
            raise ConfigError(f"{name} is required and not set (expected a whole number)")
        return int(default)  # type: ignore[arg-type]
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not valid: expected a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} is not valid: expected at least {minimum}")
    return number


def env_choice(name: str, choices: Iterable[str], default: str | object = _MISSING) -> str:
    allowed = list(choices)
    value = _raw(name)
    if value is None:
        if default is _MISSING:
            raise ConfigError(f"{name} is required and not set (expected one of {', '.join(allowed)})")
        return str(default)
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not valid: expected one of {', '.join(allowed)}")
    return value


def env_list(name: str, default: Iterable[str] | object = _MISSING) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    value = _raw(name)
    if value is None:
        if default is _MISSING:
            raise ConfigError(f"{name} is required and not set (expected a comma-separated list)")
        return list(default)  # type: ignore[arg-type]
    return [item.strip() for item in value.split(",") if item.strip()]


def run_or_exit(main) -> None:
    """Run an entry point; a ConfigError becomes one line on stderr and exit status 2."""
    try:
        main()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from None
