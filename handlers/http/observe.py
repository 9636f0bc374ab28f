"""Watching every request: the metrics it counts, the one access-log line it writes, and
``GET /metrics`` itself.

Two ASGI pieces, because Connexion's layers each see a different part of the request (as in
`handlers.http.rate_limit`):

- `Observe` sits just inside `RequestContext` (so the request id is known), outside the
  exception handling (so it sees the final status of error envelopes and 429s too). It serves
  ``/metrics`` itself, before routing: the scrape is outside ``/v1``, never rate-limited and
  not in the spec. It times the request and, when it ends, counts it and logs it.
- `ObserveRoute` sits before security, where routing has named the operation; it notes that
  name and, when the request ends, who was recognised (tenant and key ids for the log line).
  They share a mutable `Observation` left in the ASGI scope (scopes get copied; objects in
  them do not).
"""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.http import envelope
from handlers.http.context import request_id
from handlers.http.metrics import CONTENT_TYPE, SCRAPE, UNMATCHED, mark_dead, metrics
from handlers.http.rate_limit import PRINCIPAL
from handlers.http.request_context import on_response_start
from handlers.logging_setup import log_request
from store.access.principals import Principal

SLOT = "leadpipe.observation"
METRICS_PATH = "/metrics"


@dataclass
class Observation:
    operation: str = UNMATCHED
    principal: Principal | None = None
    status: int = 500

    def response_started(self, message: Message) -> None:
        self.status = int(message["status"])


def _observed(send: Send, observation: Observation) -> Send:
    """``send`` noting the status, where no `RequestContext` does it for us."""

    async def send_observed(message: Message) -> None:
        if message["type"] == "http.response.start":
            observation.response_started(message)
        await send(message)

    return send_observed


def _principal(scope: Scope) -> Principal | None:
    known = scope.get(PRINCIPAL)
    if isinstance(known, Principal):
        return known
    context = scope.get("extensions", {}).get("connexion_context", {})
    token_info = context.get("token_info") if isinstance(context, dict) else None
    principal = token_info.get("principal") if isinstance(token_info, dict) else None
    return principal if isinstance(principal, Principal) else None


class Observe:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, _on_shutdown(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observation = Observation()
        scope[SLOT] = observation
        started = time.perf_counter()
        observation.status = 500  # unless a response starts: an exception escaping here is a 500
        if not on_response_start(scope, observation.response_started):
            send = _observed(send, observation)
        try:
            if scope.get("path") == METRICS_PATH:
                observation.operation = SCRAPE
                await self._scrape(scope, send)
            else:
                await self.app(scope, receive, send)
        finally:
            seconds = time.perf_counter() - started
            status = observation.status
            metrics().observe_request(observation.operation, status, seconds)
            log_request(scope, observation.operation, status, seconds, observation.principal)

    def _authorized(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        offered = ""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                offered = value.decode("latin-1")
        expected = f"Bearer {self.token}"
        return hmac.compare_digest(offered.encode(), expected.encode())

    async def _scrape(self, scope: Scope, send: Send) -> None:
        if scope.get("method") not in ("GET", "HEAD"):
            body = envelope.error(405, "method_not_allowed", "Method not allowed")
            await _answer(send, 405, json.dumps(body).encode(), "application/json", [(b"allow", b"GET")])
        elif not self._authorized(scope):
            body = envelope.error(401, "invalid_key", "GET /metrics needs Authorization: Bearer <token>")
            headers = [(b"www-authenticate", b'Bearer realm="metrics"')]
            await _answer(send, 401, json.dumps(body).encode(), "application/json", headers)
        else:
            # The queue depth is a database query: off the event loop.
            text = await anyio.to_thread.run_sync(metrics().exposition)
            await _answer(send, 200, b"" if scope["method"] == "HEAD" else text, CONTENT_TYPE)


def _on_shutdown(send: Send) -> Send:
    """At the end of a worker's lifespan, drop its live gauges from the metrics directory.

    Here rather than at process exit: uvicorn's workers re-raise SIGTERM on themselves after a
    graceful shutdown, which skips atexit and multiprocessing finalizers alike.
    """

    async def forward(message: Message) -> None:
        if message["type"] == "lifespan.shutdown.complete":
            mark_dead()
        await send(message)

    return forward


async def _answer(
    send: Send, status: int, body: bytes, content_type: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    start: dict[str, Any] = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id().encode()),
            (b"cache-control", b"no-store"),
            *(headers or []),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


class ObserveRoute:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        observation = scope.get(SLOT)
        if not isinstance(observation, Observation):
            await self.app(scope, receive, send)
            return
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        operation_id = str(routing.get("operation_id") or "")
        if operation_id:
            observation.operation = operation_id.rpartition(".")[2]
        try:
            await self.app(scope, receive, send)
        finally:
            observation.principal = _principal(scope)
