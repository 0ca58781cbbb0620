"""Domain errors that actions raise; the API, views and commands each turn them into their
own kind of answer (HTTP status, form error, exit line)."""

from __future__ import annotations


class DomainError(Exception):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """A uniqueness rule was hit (409)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class FieldErrors(DomainError):
    """Input that fails validation, by field (422 / form errors)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
