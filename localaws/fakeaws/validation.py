"""Checks a request's members against the service model, as the real service would.

botocore's client already checks required members and types before it sends (unless built with
`Config(parameter_validation=False)`), but not lengths, patterns or enums: a value that breaks one
of those passes the client and a Stubber, and only the real service refuses it. This module is that
refusal, done locally, so a test finds the mistake instead of production.

Values are checked in their wire form (decoded JSON; rest-json URI, query and header values are
converted to their member's type first by `protocols.py`): blobs are base64 strings, timestamps
numbers (epoch seconds) or date strings. Each problem is one line `<path.to.member>: <what>`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.model import Shape

from localaws.fakeaws.patterns import compile_pattern

# Smithy's fixed widths; a model's own min/max are checked on top of these.
_INTEGER_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "short": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}
_FLOAT_SPECIALS = ("NaN", "Infinity", "-Infinity")  # how the JSON protocols spell them


def member_path(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _show(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_length(shape: Shape, size: int, unit: str, path: str, errors: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        errors.append(f"{path}: {unit} {size} is below the minimum {low}")
    if high is not None and size > high:
        errors.append(f"{path}: {unit} {size} is above the maximum {high}")


def _check_range(shape: Shape, number: float, path: str, errors: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and number < low:
        errors.append(f"{path}: {number} is below the minimum {low}")
    if high is not None and number > high:
        errors.append(f"{path}: {number} is above the maximum {high}")


def _parse_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        pass
    try:
        parsedate_to_datetime(value)  # RFC 822, the header default
        return True
    except (TypeError, ValueError):
        return False


def validate(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Every problem with ``value`` as a ``shape``; an empty list means valid."""
    errors: list[str] = []
    if shape is not None:
        _check(shape, value, path, errors)
    return errors


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    where = path or "input"
    if getattr(shape, "is_document_type", False):
        return  # free-form JSON by definition
    if kind == "structure":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object ({shape.name}), got {_kind(value)}")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(f"{member_path(path, name)}: required member is missing")
        for name, member_value in value.items():
            if name not in shape.members:
                errors.append(f"{member_path(path, name)}: unknown member (not in {shape.name})")
            elif member_value is not None:
                _check(shape.members[name], member_value, member_path(path, name), errors)
        if getattr(shape, "is_tagged_union", False):
            chosen = [name for name, v in value.items() if v is not None]
            if len(chosen) != 1:
                errors.append(f"{where}: exactly one member of the union {shape.name} must be set, got {len(chosen)}")
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(f"{where}: expected a list, got {_kind(value)}")
            return
        _check_length(shape, len(value), "list length", where, errors)
        for index, item in enumerate(value):
            if item is None:
                if not shape.serialization.get("sparse") and not shape.metadata.get("sparse"):
                    errors.append(f"{where}[{index}]: null is not allowed in this list")
            else:
                _check(shape.member, item, f"{where}[{index}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object (map), got {_kind(value)}")
            return
        _check_length(shape, len(value), "map size", where, errors)
        for key, item in value.items():
            _check(shape.key, key, f"{where} key {_show(key)}", errors)
            if item is not None:
                _check(shape.value, item, f"{where}[{_show(key)}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {_kind(value)}")
            return
        _check_length(shape, len(value), "length", where, errors)  # code points, as Smithy counts
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            errors.append(f"{where}: {_show(value)} is not one of {', '.join(enum)}")
        pattern = shape.metadata.get("pattern")
        regex = compile_pattern(pattern) if pattern else None
        if regex is not None and not regex.fullmatch(value):
            errors.append(f"{where}: {_show(value)} does not match the pattern {pattern}")
    elif kind in _INTEGER_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{where}: expected an integer, got {_kind(value)}")
            return
        low, high = _INTEGER_RANGES[kind]
        if not low <= value <= high:
            errors.append(f"{where}: {value} does not fit in a {kind}")
        _check_range(shape, value, where, errors)
    elif kind in ("float", "double"):
        if value in _FLOAT_SPECIALS:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            errors.append(f"{where}: expected a number, got {_kind(value)}")
            return
        _check_range(shape, value, where, errors)
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{where}: expected a boolean, got {_kind(value)}")
    elif kind == "blob":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a base64 string (blob), got {_kind(value)}")
            return
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            errors.append(f"{where}: not valid base64")
            return
        _check_length(shape, len(data), "size in bytes", where, errors)
    elif kind == "timestamp":
        if isinstance(value, bool) or not (
            isinstance(value, (int, float)) or (isinstance(value, str) and _parse_timestamp(value))
        ):
            errors.append(f"{where}: expected a timestamp (epoch seconds or a date string), got {_show(value)}")
    else:
        errors.append(f"{where}: the fake does not know the type {kind!r}")
