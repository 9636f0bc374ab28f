"""``Idempotency-Key`` for POST and PATCH handlers: wrap the store call and its rendering.

Usage in a handler::

    def create_lead(body, token_info):
        caller = principal_of(token_info)
        produce = lambda: envelope.created(presenters.lead(leads.create_lead(caller, ...)))
        return idempotent(caller, body, produce)

Without the header the request simply runs. With it, `store.idempotency.replays.run` runs ``produce``
inside one transaction with the idempotency record (see there for the guarantees). The spec
declares the header (1-255 characters), so a longer key is a 422 before we get here.
A replay carries ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion import request

from handlers.http.context import app_state
from store.access.principals import Principal
from store.idempotency import replays as idempotency

Body = dict[str, Any]
HEADER = "idempotency-key"


def idempotent(
    caller: Principal, body: Any, produce: Callable[[], tuple[Body, int]]
) -> tuple[Body, int] | tuple[Body, int, dict[str, str]]:
    key = request.headers.get(HEADER)
    if key is None:
        return produce()
    outcome = idempotency.run(
        caller,
        key,
        idempotency.fingerprint(request.method, _target(), body),
        app_state().settings.secret_keys,
        produce,
    )
    if outcome.replayed:
        return outcome.body, outcome.status, {"Idempotent-Replayed": "true"}
    return outcome.body, outcome.status


def _target() -> str:
    """Path and query string: ``?onDuplicate=update`` is a different request from the default."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else str(request.url.path)
