"""ASGI middleware: the request body cap and the body timeout.

`BodyLimit` sits inside Connexion's exception handling (`RequestContext` sits outside it), so
its 413 becomes an envelope like any other error; it refuses a declared oversize body before reading a byte,
and a chunked one as soon as the running total crosses the cap. Operations that take larger
bodies (the CSV import) get their own cap per media type (`RouteLimit`). A body that stalls
longer than the timeout between two of its parts gets ``408`` and the connection is closed:
uvicorn has no body timeout, so a client trickling bodies could hold connections forever.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from connexion.exceptions import ProblemException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.http.context import header


class PayloadTooLarge(ProblemException):
    def __init__(self, limit: int) -> None:
        super().__init__(status=413, title="Payload Too Large", detail=f"Request body exceeds {limit} bytes")


class RequestTimeout(ProblemException):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            status=408,
            title="Request Timeout",
            detail=f"The request body stalled for more than {seconds:g} s",
            headers={"Connection": "close"},  # the rest of the body is never read: close
        )


@dataclass(frozen=True)
class RouteLimit:
    """A body cap of its own for one operation and media type (e.g. the CSV import's 100 MB).

    ``streamed``: the handler reads the body from ``receive`` itself, so a chunked body is
    passed through as it arrives instead of being buffered for Connexion's validators.
    """

    method: str
    path: str
    media_type: str
    max_bytes: int
    streamed: bool = False


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        routes: Sequence[RouteLimit] = (),
        timeout_seconds: float | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.routes = {(r.method, r.path, r.media_type): r for r in routes}

    def _route(self, scope: Scope) -> RouteLimit | None:
        if not self.routes:
            return None
        media_type = (header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
        return self.routes.get((scope.get("method", ""), scope.get("path", ""), media_type))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self._route(scope)
        limit = route.max_bytes if route else self.max_bytes
        declared = header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise PayloadTooLarge(limit)
        received = 0
        complete = False  # once the body is in, receive() only waits for a disconnect: no timeout

        async def counting_receive() -> Message:
            nonlocal received, complete
            if complete:
                return await receive()
            timeout = self.timeout_seconds
            try:
                with anyio.fail_after(timeout) if timeout else contextlib.nullcontext():
                    message: dict[str, Any] = dict(await receive())
            except TimeoutError as exc:
                raise RequestTimeout(timeout or 0) from exc
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        streamed = route is not None and route.streamed
        if declared is None and header(scope, b"transfer-encoding") is not None and not streamed:
            scope, replayed = await self._buffered(scope, counting_receive)
            await self.app(scope, replayed, send)
            return
        await self.app(scope, counting_receive, send)

    @staticmethod
    async def _buffered(scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
        """Read a chunked body (capped by ``receive``) and replay it with a Content-Length.

        Connexion's body validators take a missing Content-Length for an empty body, so a
        chunked request would be refused as "body required"; the cap bounds the buffer.
        """
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"transfer-encoding")]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return scope, replay
