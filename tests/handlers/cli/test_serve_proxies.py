"""Client IP behind proxies, through the real server: ``X-Forwarded-For`` counts only from a peer
in ``LEADPIPE_TRUSTED_PROXIES`` (none by default; uvicorn's own default trusts 127.0.0.1)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server_support import create_tenant, own_database, serving

SPOOFED = "203.0.113.9"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A database with one tenant; yields (url, its live key)."""
    with own_database(tmp_path) as url:
        created = create_tenant(url)
        yield url, created["apiKey"]


@contextlib.contextmanager
def _client(database: tuple[str, str], tmp_path: Path, **extra: str) -> Iterator[httpx.Client]:
    """A client of a real server (per-IP budget 3/3) on ``database``, with its key."""
    url, key = database
    env = {"LEADPIPE_DATABASE_URL": url, "LEADPIPE_WORKER_THREADS": "0", "LEADPIPE_RATE_LIMIT_PER_IP": "3/3"}
    with (
        serving(tmp_path, **env, **extra) as server,
        httpx.Client(base_url=server.base, headers={"X-API-Key": key}, timeout=30) as http,
    ):
        yield http


def _audited_ip(http: httpx.Client, forwarded: str) -> str | None:
    lead = {"email": "a@example.com", "firstName": "A", "lastName": "B"}
    created = http.post("/v1/leads", json=lead, headers={"X-Forwarded-For": forwarded})
    assert created.status_code == 201, created.text
    events = http.get("/v1/audit-events", params={"resourceId": created.json()["data"]["id"]}).json()["data"]
    ip: str | None = events[0]["ip"]
    return ip


def _statuses(http: httpx.Client, count: int) -> list[int]:
    """Each request claims another client IP."""
    return [
        http.get("/v1/tenant", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(count)
    ]


def test_an_untrusted_peer_cannot_claim_another_client_ip(database: tuple[str, str], tmp_path: Path) -> None:
    with _client(database, tmp_path) as http:
        assert _audited_ip(http, SPOOFED) == "127.0.0.1"
        # One budget for the real peer, whatever it claims: 3 burst, then 429.
        assert 429 in _statuses(http, 6)


def test_a_trusted_proxy_names_the_client(database: tuple[str, str], tmp_path: Path) -> None:
    with _client(database, tmp_path, LEADPIPE_TRUSTED_PROXIES="127.0.0.0/8, ::1") as http:
        assert _audited_ip(http, SPOOFED) == SPOOFED
        assert set(_statuses(http, 6)) == {200}  # six clients, each within its own budget


def test_uvicorns_own_trust_variable_is_not_obeyed(database: tuple[str, str], tmp_path: Path) -> None:
    with _client(database, tmp_path, FORWARDED_ALLOW_IPS="*") as http:
        assert _audited_ip(http, SPOOFED) == "127.0.0.1"
