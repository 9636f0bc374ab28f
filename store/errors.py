"""The one domain error tree.

Store functions raise these (translating driver errors with ``raise ... from exc``); the HTTP
layer maps each to the error envelope in exactly one place (`handlers.http.errors`). Every error
carries its machine ``code`` and HTTP ``status`` so that mapping is a lookup, not a ladder.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class StoreError(Exception):
    code = "internal_error"
    status = 500

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(StoreError):
    code = "not_found"
    status = 404


class Conflict(StoreError):
    code = "conflict"
    status = 409


class DuplicateName(Conflict):
    code = "duplicate_name"


class ValidationFailed(StoreError):
    code = "validation_error"
    status = 422

    def __init__(self, errors: list[FieldError], message: str = "Validation failed") -> None:
        super().__init__(message, errors)


class BadRequest(StoreError):
    """Input that cannot even be parsed (e.g. a tampered cursor)."""

    code = "bad_request"
    status = 400


class PermissionDenied(StoreError):
    code = "insufficient_permissions"
    status = 403


class Unavailable(StoreError):
    """The database cannot be reached; the request may be retried."""

    code = "service_unavailable"
    status = 503


class Unauthenticated(StoreError):
    """A credential that is malformed, unknown, revoked or expired: all look the same."""

    code = "invalid_key"
    status = 401


class AuthRequired(Unauthenticated):
    """No credential at all where one is needed (checked in the store: public capture)."""

    code = "auth_required"


class RateLimited(StoreError):
    """Too many requests (or failed logins); the client may retry after ``retry_after_ms``."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after_ms: int, scope: str = "tenant") -> None:
        super().__init__(message)
        self.retry_after_ms = max(0, retry_after_ms)
        self.scope = scope  # which budget ran out: the label of leadpipe_rate_limited_total


class IdempotencyConflict(Conflict):
    """An Idempotency-Key reused for a different request, or while its first use still runs."""

    code = "idempotency_conflict"


class QuotaExceeded(StoreError):
    """The plan's quota is used up: no retry helps, an upgrade (or a deletion) does."""

    code = "quota_exceeded"
    status = 403


class PreconditionFailed(StoreError):
    """``If-Match`` named a version of the resource that is no longer the current one."""

    code = "precondition_failed"
    status = 412
