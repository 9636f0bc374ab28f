"""Liveness and readiness probes."""

from __future__ import annotations

from handlers.http import envelope
from store import db
from store.errors import Unavailable


def health() -> envelope.Reply:
    return envelope.ok({"status": "ok"})


def ready() -> envelope.Reply:
    if not db.ping():
        raise Unavailable("The database is not reachable")
    return envelope.ok({"status": "ready", "database": "ok"})
