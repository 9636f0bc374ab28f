"""The one domain error tree.

Store functions raise these (translating driver errors with ``raise ... from exc``); the HTTP
layer maps each to the error envelope in exactly one place (`handlers.http.errors`, which owns
the HTTP statuses). Every error carries its machine ``code``; its place in the tree says what
kind of failure it is, which is all the store ever branches on:

- `Refused`: this request is refused as it stands (bad input, not found, not allowed, over a
  limit); it changes nothing, and the caller can fix it. An import reports it on its row.
- `Transient`: the service cannot answer now (the database is unreachable); the same request
  may succeed later. An import batch fails whole, to be retried.
- `StoreError` itself: an internal failure (a bug); neither of the above.
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

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class Refused(StoreError):
    """The request is refused as it stands; the caller can change it (see the module docstring)."""

    code = "bad_request"


class Transient(StoreError):
    """The service cannot answer now; the same request may succeed when retried."""

    code = "service_unavailable"


class NotFound(Refused):
    code = "not_found"


class Conflict(Refused):
    code = "conflict"


class DuplicateName(Conflict):
    code = "duplicate_name"


class ValidationFailed(Refused):
    code = "validation_error"

    def __init__(self, errors: list[FieldError], message: str = "Validation failed") -> None:
        super().__init__(message, errors)


class BadRequest(Refused):
    """Input that cannot even be parsed (e.g. a tampered cursor)."""

    code = "bad_request"


class PermissionDenied(Refused):
    code = "insufficient_permissions"


class Unavailable(Transient):
    """The database cannot be reached; the request may be retried."""

    code = "service_unavailable"


class Unauthenticated(Refused):
    """A credential that is malformed, unknown, revoked or expired: all look the same."""

    code = "invalid_key"


class AuthRequired(Unauthenticated):
    """No credential at all where one is needed (checked in the store: public capture)."""

    code = "auth_required"


class RateLimited(Refused):
    """Too many requests (or failed logins); the client may retry after ``retry_after_ms``."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_ms: int, scope: str = "tenant") -> None:
        super().__init__(message)
        self.retry_after_ms = max(0, retry_after_ms)
        self.scope = scope  # which budget ran out: the label of leadpipe_rate_limited_total


class IdempotencyConflict(Conflict):
    """An Idempotency-Key reused for a different request, or while its first use still runs."""

    code = "idempotency_conflict"


class QuotaExceeded(Refused):
    """The plan's quota is used up: no retry helps, an upgrade (or a deletion) does."""

    code = "quota_exceeded"


class PreconditionFailed(Refused):
    """``If-Match`` named a version of the resource that is no longer the current one."""

    code = "precondition_failed"
