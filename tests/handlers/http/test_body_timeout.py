"""A request body that stalls gets ``408 request_timeout`` and the connection is closed, through a
real uvicorn server and a raw socket (once, 300 connections trickling bodies were held for 40 s+:
uvicorn has no body timeout of its own)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import yaml

from tests.server_support import Server, create_tenant, own_database
from tests.support import SPEC_PATH

SPEC = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def test_every_body_operation_declares_its_408() -> None:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                assert "408" in operation["responses"], f"{method.upper()} {path}"
    assert "request_timeout" in SPEC["components"]["schemas"]["ErrorEnvelope"]["properties"]["code"]["enum"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    tmp_path = tmp_path_factory.mktemp("timeout")
    with own_database(tmp_path) as url:
        created = create_tenant(url)
        server = Server(
            tmp_path,
            LEADPIPE_DATABASE_URL=url,
            LEADPIPE_WORKER_THREADS="0",
            LEADPIPE_BODY_TIMEOUT_SECONDS="1",
        )
        try:
            server.wait_ready()
            yield server, created["apiKey"]
        finally:
            server.stop()


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (the socket timeout bounds a hang)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("path", ["/v1/leads", "/v1/public/leads"])
def test_a_stalled_body_gets_408_and_the_connection_is_closed(served: tuple[Server, str], path: str) -> None:
    server, key = served
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head.encode() + b'{"email": "slow@exa')  # ...and nothing more
        answer = _read_all(sock)  # returns only because the server closed the connection
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"connection: close" in headers.lower()
    envelope = json.loads(body)
    assert (envelope["success"], envelope["status"], envelope["code"]) == (False, 408, "request_timeout")
    assert envelope["meta"]["requestId"]


def test_a_complete_body_is_served_as_usual(served: tuple[Server, str]) -> None:
    server, key = served
    body = json.dumps({"email": "quick@example.com", "firstName": "Q", "lastName": "R"}).encode()
    head = (
        f"POST /v1/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head.encode() + body)
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
