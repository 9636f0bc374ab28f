"""GET /metrics under ``leadpipe serve --workers 2``: every scrape, whichever worker answers it,
adds up the requests and 429s of both workers (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ratelimit_support import require_redis
from tests.server_support import serving
from tests.support import samples, value

KEY = re.compile(r"lp_live_sk_[A-Za-z0-9]{32}")
pytestmark = pytest.mark.slow


def _pids(directory: Path, kind: str) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in directory.glob(f"{kind}_*.db")}


def test_counts_add_up_across_two_workers(tmp_path: Path) -> None:
    redis_url = require_redis()
    metrics_dir = tmp_path / "prometheus"
    env = {
        "LEADPIPE_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "LEADPIPE_RATE_LIMIT_URL": redis_url,
        "LEADPIPE_WORKER_THREADS": "0",
        "LEADPIPE_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    with serving(tmp_path, "--plan", "free", workers=2, **env) as server:
        found = KEY.search(server.stdout.read_text())
        assert found is not None, server.log()
        headers = {"X-API-Key": found.group(0)}

        def call(_: Any) -> int:
            # A new connection per request, so the kernel spreads them over both workers.
            with httpx.Client(base_url=server.base, timeout=30) as client:
                return client.get("/v1/leads", headers=headers).status_code

        statuses: list[int] = []
        with ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(10):  # until both workers have answered some (bounded)
                statuses += list(pool.map(call, range(12)))
                if len(_pids(metrics_dir, "counter")) >= 2:
                    break
        served = _pids(metrics_dir, "counter")
        scrapes = [samples(httpx.get(f"{server.base}/metrics", timeout=30).text) for _ in range(6)]

    assert server.stderr.read_text() == ""  # no warning from the parent or either worker
    assert len(served) >= 2, "both workers should have counted requests"
    ok, limited = statuses.count(200), statuses.count(429)
    # The free plan's burst of 10 (60/minute refills it over 10 s), one budget through Redis.
    assert ok >= 10 and limited >= 1 and ok + limited == len(statuses)
    for scrape in scrapes:
        assert value(scrape, "leadpipe_http_requests_total", operation="listLeads", status="200") == ok
        assert value(scrape, "leadpipe_http_requests_total", operation="listLeads", status="429") == limited
        assert value(scrape, "leadpipe_rate_limited_total", scope="tenant") == limited
        assert value(scrape, "leadpipe_http_request_duration_seconds_count", operation="listLeads") == len(
            statuses
        )
        # Two workers' pools, summed (LEADPIPE_DB_POOL_SIZE 20 each).
        assert value(scrape, "leadpipe_db_pool_max_connections") == 40
    # Each worker dropped its live gauges when it exited (mark_process_dead).
    assert _pids(metrics_dir, "gauge_livesum") == set()
