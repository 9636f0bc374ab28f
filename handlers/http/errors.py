"""The one place where exceptions become error envelopes.

Domain errors (`store.errors`), Connexion's problems, Starlette's routing errors and anything
unexpected all end here; nothing else in the code builds an error response. A 500 never
carries the exception text: it is logged with the request id instead.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from handlers.http import envelope
from handlers.http.context import request_id
from handlers.http.metrics import metrics
from handlers.http.names import field_path_to_camel
from handlers.http.security import stopped_credential
from store import errors as domain
from store.errors import RateLimited, StoreError

log = logging.getLogger("leadpipe.errors")

CODES = {
    400: "bad_request",
    401: "invalid_key",
    403: "insufficient_permissions",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}
# The HTTP status of each domain error: the only place a store error meets HTTP. Looked up along
# the class's MRO, so a subclass (DuplicateName, AuthRequired, ...) answers as its parent does
# unless listed; anything not listed (StoreError itself) is a 500.
STATUSES: dict[type[StoreError], int] = {
    domain.BadRequest: 400,
    domain.Unauthenticated: 401,
    domain.PermissionDenied: 403,
    domain.QuotaExceeded: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.PreconditionFailed: 412,
    domain.ValidationFailed: 422,
    domain.RateLimited: 429,
    domain.Unavailable: 503,
    domain.Transient: 503,
    domain.Refused: 400,
}
MESSAGES = {
    404: "Resource not found",
    405: "Method not allowed",
    408: "Request body timed out",
    413: "Request body too large",
    415: "Unsupported media type: send application/json",
}


class AllowedMethods:
    """The methods the spec declares for a path, for an exact ``Allow`` header on 405."""

    def __init__(self, base_path: str, paths: dict[str, Any]) -> None:
        # Most specific first: a literal path (``/leads/import``) also matches a template
        # (``/leads/{leadId}``), and the spec's own entry for it is the one that answers.
        ordered = sorted(paths.items(), key=lambda item: item[0].count("{"))
        self._routes = [
            (
                re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(base_path + path)) + "$"),
                {m.upper() for m in ops if m in {"get", "post", "put", "patch", "delete"}},
            )
            for path, ops in ordered
        ]

    def for_path(self, path: str) -> str:
        for pattern, methods in self._routes:
            if pattern.match(path):
                return ", ".join(sorted(methods))
        return ""


def _reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body),
        content_type="application/json",
        headers={**(headers or {}), "X-Request-ID": request_id()},
    )


def status_of(exc: StoreError) -> int:
    """The HTTP status a domain error answers with (`STATUSES`, nearest class first)."""
    return next((STATUSES[cls] for cls in type(exc).__mro__ if cls in STATUSES), 500)


def store_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, StoreError)
    exc = stopped_credential() or exc
    status = status_of(exc)
    # Store rules name snake_case columns; the request validators already use the client's names.
    name = (lambda field: field) if getattr(exc, "client_names", False) else field_path_to_camel
    errors = [{"field": name(e.field), "message": e.message} for e in exc.errors]
    if status >= 500:
        log.error("request %s failed: %s", request_id(), exc.code, exc_info=exc)
    if isinstance(exc, RateLimited):
        metrics().rate_limited.labels(exc.scope).inc()
        retry = {"retryAfterMs": exc.retry_after_ms}
        headers = {"Retry-After": str(-(-exc.retry_after_ms // 1000))}
        return _reply(status, envelope.error(status, exc.code, exc.message, errors, **retry), headers)
    return _reply(status, envelope.error(status, exc.code, exc.message, errors))


def problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    stopped = stopped_credential()
    if stopped is not None:
        return store_error(_request, stopped)
    status = exc.status or 500
    if status >= 500:
        log.error("request %s failed: %r", request_id(), exc)
        return _reply(500, envelope.error(500, "internal_error", "Internal server error"))
    code = CODES.get(status, "bad_request")
    detail = exc.detail or exc.title or MESSAGES.get(status, "Bad request")
    if status == 401 and "No authorization token" in str(detail):
        code, detail = "auth_required", "Authentication required: send X-API-Key or Authorization: Bearer"
    elif status == 401:
        detail = "Invalid API key or token"
    body = envelope.error(status, code, MESSAGES.get(status, str(detail)))
    return _reply(status, body, dict(exc.headers or {}))


def http_error(allowed: AllowedMethods):  # type: ignore[no-untyped-def]
    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        status = getattr(exc, "status_code", 500)
        headers: dict[str, str] = {}
        if status == 405:
            headers["Allow"] = allowed.for_path(request.url.path)
        message = MESSAGES.get(status) or (exc.detail if isinstance(exc, HTTPException) else "Error")
        return _reply(status, envelope.error(status, CODES.get(status, "bad_request"), str(message)), headers)

    return handle


def unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    log.error("request %s failed with an unexpected error", request_id(), exc_info=exc)
    return _reply(500, envelope.error(500, "internal_error", "Internal server error"))


def register(app: AsyncApp, allowed: AllowedMethods) -> None:
    app.add_error_handler(StoreError, store_error)
    app.add_error_handler(ProblemException, problem)
    app.add_error_handler(404, http_error(allowed))
    app.add_error_handler(405, http_error(allowed))
    app.add_error_handler(HTTPException, http_error(allowed))
    app.add_error_handler(Exception, unexpected)
