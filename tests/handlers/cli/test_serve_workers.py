"""``leadpipe serve --workers N`` with in-process rate-limit counters would give every worker a
budget of its own (N times every limit), silently: it refuses to start instead."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server_support import Server, run_cli


def test_several_workers_with_memory_counters_refuse_to_start(tmp_path: Path) -> None:
    database = tmp_path / "never.db"
    result = run_cli(
        "serve", "--workers", "2", "--port", "1", LEADPIPE_DATABASE_URL=f"sqlite:///{database}",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "LEADPIPE_RATE_LIMIT_URL=redis://" in result.stderr
    assert "--workers 2" in result.stderr
    assert not database.exists()  # refused before anything was opened or written


def test_several_workers_with_redis_counters_serve(tmp_path: Path) -> None:
    server = Server(
        tmp_path, workers=2, LEADPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        LEADPIPE_RATE_LIMIT_URL="redis://127.0.0.1:6379/15", LEADPIPE_WORKER_THREADS="0",
    )  # fmt: skip
    try:
        server.wait_ready()
        assert httpx.get(f"{server.base}/v1/health", timeout=10).json()["data"]["status"] == "ok"
    finally:
        server.stop()


def test_one_worker_with_memory_counters_is_fine(tmp_path: Path) -> None:
    server = Server(
        tmp_path, LEADPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'one.db'}", LEADPIPE_WORKER_THREADS="0"
    )
    try:
        server.wait_ready()
    finally:
        server.stop()
