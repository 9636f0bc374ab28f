"""ASGI middleware: request identity and the request body cap.

`RequestContext` sits outside Connexion's exception handling so that every response, error
envelopes included, carries ``X-Request-ID``. `BodyLimit` sits inside it, so its 413 becomes
an envelope like any other error; it refuses a declared oversize body before reading a byte,
and a chunked one as soon as the running total crosses the cap.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from connexion.exceptions import ProblemException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.context import AppState, app_state_var, request_id_var

SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContext:
    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, b"x-request-id")
        rid = offered if offered and SANE_REQUEST_ID.match(offered) else uuid.uuid4().hex
        rid_token = request_id_var.set(rid)
        state_token = app_state_var.set(self.state)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message["headers"] = [*headers, (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(rid_token)
            app_state_var.reset(state_token)


class PayloadTooLarge(ProblemException):
    def __init__(self, limit: int) -> None:
        super().__init__(status=413, title="Payload Too Large", detail=f"Request body exceeds {limit} bytes")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            raise PayloadTooLarge(self.max_bytes)
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
