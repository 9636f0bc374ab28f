"""CSV import end to end through the running server: upload ``POST /v1/leads/import`` (text/csv),
poll ``GET /v1/imports/{id}`` until ``completed``, then wait until no job is left (jobs the import
queued: one dedup job per row before imports deduplicated each chunk in its own transaction;
since then none, so "until drained" equals ``completed`` unless other work is queued).
Reports rows/s for both ends, server CPU per row and the server's resident memory (VmRSS
sampled at every poll: before, and the most seen during the import)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import queue
from bench.seed import BenchDatabase
from bench.servers import Server, get_json


def rss_mb(server: Server) -> float | None:
    """The server process's resident set now (VmRSS), in MB."""
    try:
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def csv_text(rows: int, token: str) -> bytes:
    lines = ["email,firstName,lastName,company,score,tags"]
    lines += [
        f"imp-{token}-{i}@example.com,First{i},Last{i},Company {i % 500},{i % 101},t{i % 7}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def measure(
    server: Server, db: BenchDatabase, headers: dict[str, str], rows: int, token: str
) -> dict[str, Any]:
    body = csv_text(rows, token)
    queue.wait_drained(db)
    rss_before = rss_mb(server)
    rss_max = rss_before or 0.0
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    request = urllib.request.Request(
        f"{server.base}/v1/leads/import",
        data=body,
        method="POST",
        headers={**headers, "Content-Type": "text/csv"},
    )
    with urllib.request.urlopen(request, timeout=600) as reply:
        accepted = json.loads(reply.read())["data"]
    uploaded = time.perf_counter() - started
    state: dict[str, Any] = {}
    while time.perf_counter() - started < 900:
        state = get_json(f"{server.base}/v1/imports/{accepted['id']}", headers)["data"]
        rss_max = max(rss_max, rss_mb(server) or 0.0)
        if state["status"] in ("completed", "failed"):
            break
        time.sleep(0.1)
    completed = time.perf_counter() - started
    cpu_completed = server.cpu_seconds() - cpu
    drained = queue.wait_drained(db, timeout_s=900)
    total = time.perf_counter() - started
    cpu_total = server.cpu_seconds() - cpu
    return {
        "rows": rows,
        "status": state.get("status"),
        "counts": state.get("counts"),
        "upload_s": round(uploaded, 2),
        "completed_s": round(completed, 2),
        "rows_per_s_completed": round(rows / completed, 1),
        "dedup_drained_s": round(total, 2) if drained >= 0 else None,
        "rows_per_s_incl_dedup": round(rows / total, 1) if drained >= 0 else None,
        "cpu_s": round(cpu_total, 2),
        "cpu_s_completed": round(cpu_completed, 2),
        "cpu_ms_per_row": round(1000 * cpu_total / rows, 3),
        "rss_mb_before": rss_before,
        "rss_mb_max": rss_max,
    }
