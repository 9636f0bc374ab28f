"""ASGI middleware: request identity, and the one wrapper of ``send``.

`RequestContext` sits outside Connexion's exception handling so that every response, error
envelopes included, carries ``X-Request-ID``; it also makes the app state reachable from
handlers for the request's duration. The layers inside it that need to see or amend the
response start (`handlers.http.observe` reads the status, `handlers.http.rate_limit` adds the
X-RateLimit-* headers) register a hook with `on_response_start` instead of wrapping ``send``
each: one wrapper per request instead of three (each wrapper is another coroutine frame on
every message sent).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.http.context import AppState, app_state_var, header, hinted_credential_var, request_id_var

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
HOOKS = "leadpipe.response_start"

StartHook = Callable[[Message], None]


def on_response_start(scope: Scope, hook: StartHook) -> bool:
    """Have ``hook`` see (and amend) this request's ``http.response.start`` message before it is
    sent, in registration order (outer layers first), before X-Request-ID is set. False when no
    `RequestContext` is outside the caller: it must then wrap ``send`` itself."""
    hooks = scope.get(HOOKS)
    if not isinstance(hooks, list):
        return False
    hooks.append(hook)
    return True


def new_request_id() -> str:
    """32 hex digits, as ``uuid4().hex`` gave, without ``os.urandom``: that call releases the
    GIL, and on the event loop thread (one per process, under 16 busy handler threads) getting
    it back cost ~0.2 ms of wall time per request (cProfile, bench load). A request id is a
    correlation label, not a secret: `random` (reseeded in forked workers) is enough."""
    return f"{random.getrandbits(128):032x}"


class RequestContext:
    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = header(scope, b"x-request-id")
        rid = offered if offered and SANE_REQUEST_ID.match(offered) else new_request_id()
        rid_token = request_id_var.set(rid)
        state_token = app_state_var.set(self.state)
        hint_token = hinted_credential_var.set(None)
        hooks: list[StartHook] = []
        scope[HOOKS] = hooks

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                for hook in hooks:
                    hook(message)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(rid_token)
            app_state_var.reset(state_token)
            hinted_credential_var.reset(hint_token)
