"""Liveness and readiness probes."""

from __future__ import annotations

from handlers.http import envelope
from handlers.http.context import app_state
from store import db

OK, UNAVAILABLE = "ok", "unavailable"


def health() -> envelope.Reply:
    return envelope.ok({"status": "ok"})


def ready() -> envelope.Reply:
    """Each dependency a request needs: the database, and Redis when rate limits live there.

    Redis counts although the limiter fails open without it: an instance whose budgets are not
    enforced is degraded, and the operator is told which dependency it is.
    """
    checks = {"database": OK if db.ping() else UNAVAILABLE}
    limiter = app_state().limiter
    if limiter is not None and limiter.remote:
        checks["redis"] = OK if limiter.ping() else UNAVAILABLE
    failing = [name for name, state in checks.items() if state != OK]
    if not failing:
        return envelope.ok({"status": "ready", **checks})
    errors = [{"field": name, "message": f"{name} is not reachable"} for name in failing]
    body = envelope.error(503, "service_unavailable", f"Not ready: {', '.join(failing)} unavailable", errors)
    return {**body, "checks": checks}, 503
