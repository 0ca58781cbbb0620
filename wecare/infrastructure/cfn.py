"""Small helpers for writing CloudFormation in Python: intrinsic functions and logical ids."""

from __future__ import annotations

import re
from typing import Any

Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"Ref": name}


def get_att(resource: str, attribute: str) -> Json:
    return {"Fn::GetAtt": [resource, attribute]}


def var(name: str) -> str:
    """``${name}``: a parameter, resource or pseudo parameter inside an Fn::Sub string."""
    return "${" + name + "}"


STACK_NAME = var("AWS::StackName")


def sub(text: str) -> Json:
    return {"Fn::Sub": text}


def join(parts: list[Any], separator: str = "") -> Json:
    return {"Fn::Join": [separator, parts]}


def logical_id(*words: str) -> str:
    """An alphanumeric logical id from names such as "inbound-queue" or "base-wecare-digital-whatsapp"."""
    parts = re.split(r"[^A-Za-z0-9]+", " ".join(words))
    return "".join(part[:1].upper() + part[1:] for part in parts if part)
