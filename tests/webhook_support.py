"""A real webhook receiver for tests: a threaded HTTP server on loopback that verifies every
request's signature with the ``standardwebhooks`` package, and a few helpers around it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from handlers.worker import Worker


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """Answers from ``script`` (status, headers, body) in order, then 200; keeps every request."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            return self.script.pop(0) if self.script else (200, {}, b'{"ok": true}')

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.payload for r in self.received]

    def verify_all(self, *secrets: str) -> None:
        """Every request received verifies with each of ``secrets`` (standardwebhooks)."""
        with self.lock:
            requests = list(self.received)
        assert requests, "the receiver got nothing"
        for request in requests:
            for secret in secrets:
                Webhook(secret).verify(request.body, request.headers)

    def rejects(self, secret: str) -> bool:
        """True if no request verifies with ``secret``."""
        for request in self.received:
            try:
                Webhook(secret).verify(request.body, request.headers)
                return False
            except WebhookVerificationError:
                continue
        return True


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with state.lock:
                state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, reply = state.answer()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def deliver(tenant_id: str) -> int:
    """Run the tenant's due jobs (deliveries, retries due now, dedup) until none is left."""
    return Worker().run_until_idle(tenant_id=tenant_id)


def create_endpoint(client: Any, headers: dict[str, str], url: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/webhook-endpoints", json={"url": url, "events": ["*"], **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
