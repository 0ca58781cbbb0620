"""Domain errors that actions raise; the API, views and commands each turn them into their
own kind of answer (HTTP status, form error, exit line).

Each error carries its own HTTP answer (``status`` and ``body()``), so the API maps every one of
them with a single handler (``wecare/api.py``) and an app adds an error by subclassing here,
never by touching the API.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400

    def body(self) -> dict[str, Any]:
        """The JSON the API answers with."""
        return {"detail": str(self)}


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """A uniqueness rule was hit (409)."""

    status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def body(self) -> dict[str, Any]:
        return {"detail": str(self), "field": self.field}


class FieldErrors(DomainError):
    """Input that fails validation, by field (422 / form errors)."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors

    def body(self) -> dict[str, Any]:
        # The shape of ninja's own validation errors, so a client reads both the same way.
        detail = [{"loc": ["body", field], "msg": msg, "type": "value_error"} for field, msg in self.errors.items()]
        return {"detail": detail}
