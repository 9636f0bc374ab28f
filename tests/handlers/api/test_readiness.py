"""GET /v1/ready names each dependency, with really stopped servers: a throwaway redis-server
killed mid-test, and a PostgreSQL URL where nothing listens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from handlers.settings import Settings
from tests.ratelimit_support import limited_app
from tests.server_support import free_port, redis_server, serving
from tests.support import assert_error, assert_ok


def _not_ready(response: Any, *failing: str) -> dict[str, Any]:
    body = assert_error(response, 503, "service_unavailable", *failing)
    for name in failing:
        assert body["checks"][name] == "unavailable" and name in body["message"]
    return body


def test_ready_names_redis_when_the_rate_limit_store_stops(app: Any, settings: Settings) -> None:
    with redis_server() as (port, process), limited_app(settings, f"redis://127.0.0.1:{port}/0") as served:
        client = TestClient(served, raise_server_exceptions=False)
        assert assert_ok(client.get("/v1/ready")) == {"status": "ready", "database": "ok", "redis": "ok"}
        process.terminate()
        process.wait(timeout=30)
        body = _not_ready(client.get("/v1/ready"), "redis")
        assert body["checks"] == {"database": "ok", "redis": "unavailable"}
        assert assert_ok(client.get("/v1/health")) == {"status": "ok"}  # liveness stays up


def test_ready_without_redis_configured_does_not_check_it(client: TestClient) -> None:
    assert "redis" not in assert_ok(client.get("/v1/ready"))


@pytest.mark.slow
def test_a_served_instance_names_each_stopped_dependency(tmp_path: Path) -> None:
    """A real server process whose PostgreSQL port has no server, then whose Redis is stopped."""
    nowhere = free_port()  # bound and released: nothing listens there
    with redis_server() as (redis_port, redis_process):
        env = {
            "LEADPIPE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{nowhere}/gone",
            "LEADPIPE_RATE_LIMIT_URL": f"redis://127.0.0.1:{redis_port}/0",
        }
        with serving(tmp_path, factory=True, **env) as server:
            body = _not_ready(httpx.get(f"{server.base}/v1/ready", timeout=30), "database")
            assert body["checks"] == {"database": "unavailable", "redis": "ok"}
            redis_process.terminate()
            redis_process.wait(timeout=30)
            body = _not_ready(httpx.get(f"{server.base}/v1/ready", timeout=30), "database", "redis")
            assert body["checks"] == {"database": "unavailable", "redis": "unavailable"}
            assert httpx.get(f"{server.base}/v1/health", timeout=30).status_code == 200
