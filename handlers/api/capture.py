"""Public capture endpoints: a website's contact form posts here with a publishable key.

The operations declare ``security: []`` because the key may travel in the body (a plain HTML
form cannot set headers) and Connexion authenticates before it parses bodies; `store.capture.submissions`
authenticates it instead. Spam control that needs no database runs here first: per client IP
and per presented key rate limits, on the shared limiter (`handlers.http.limiter`).
"""

from __future__ import annotations

import hashlib
from typing import Any

from connexion import request

from handlers.http import envelope, names, rate_limit
from handlers.http.context import app_state, request_id
from handlers.http.limiter import Policy, Verdict
from handlers.http.security import refuse_repeated_credentials
from store.capture import submissions as capture
from store.errors import RateLimited

CORS_METHODS = "POST, OPTIONS"
CORS_HEADERS = "Content-Type, X-Publishable-Key, X-Request-ID"
CORS_MAX_AGE = "600"
CONTROL_FIELDS = ("key", "honeypot", "redirect")


def _limit(pair: tuple[int, int] | None, name: str, *identifiers: str) -> Verdict | None:
    limiter = app_state().limiter
    if pair is None or limiter is None:
        return None
    verdict = limiter.hit(Policy(name, *pair), name, *identifiers)
    if not verdict.allowed:
        raise RateLimited(
            f"Too many submissions for this {name.split('-')[-1]}; retry after {verdict.retry_after_ms} ms",
            verdict.retry_after_ms,
            name,
        )
    return verdict


def _rate_limit(ip: str, key: str | None) -> None:
    settings = app_state().settings
    by_ip = _limit(settings.capture_rate_per_ip, "capture-ip", ip)
    # Counted per presented key (hashed: a limiter in Redis never holds key material).
    digest = hashlib.sha256((key or "").encode()).hexdigest()[:32]
    by_key = _limit(settings.capture_rate_per_key, "capture-key", digest) if key else None
    rate_limit.show_verdicts(request.scope, ip=by_ip, tenant=by_key)


def _cors(origin: str | None) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {"Vary": "Origin"}


def capture_lead(body: dict[str, Any], key: str | None = None) -> Any:
    ip = request.client.host if request.client else "unknown"
    refuse_repeated_credentials(request.headers)
    presented = request.headers.get("x-publishable-key") or key or body.get("key")
    _rate_limit(ip, presented)
    fields = {
        name: value for name, value in body.items() if name not in CONTROL_FIELDS and value not in ("", None)
    }
    submission = capture.Submission(
        key=presented,
        fields={names.to_snake(name): value for name, value in fields.items()},
        honeypot=bool(str(body.get("honeypot") or "").strip()),
        redirect=body.get("redirect") or None,
        origin=request.headers.get("origin"),
        ip=ip,
        user_agent=request.headers.get("user-agent"),
        request_id=request_id(),
    )
    captured = capture.capture_lead(submission)
    headers = _cors(captured.allow_origin)
    data, _ = envelope.created({"id": captured.lead_id, "status": "new"})
    if captured.redirect:
        data["status"] = 303
        return data, 303, {**headers, "Location": captured.redirect}
    return data, 201, headers


def capture_preflight(key: str | None = None) -> Any:
    allowed = capture.preflight(key, request.headers.get("origin"))
    headers = {
        **_cors(allowed),
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Allow-Headers": CORS_HEADERS,
        "Access-Control-Max-Age": CORS_MAX_AGE,
    }
    return None, 204, headers
