"""CSV import end to end through the running server: upload ``POST /v1/leads/import`` (text/csv),
poll ``GET /v1/imports/{id}`` until ``completed``, then wait for the queue to drain (each
imported row's dedup job). Reports rows/s for both ends."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from bench import queue
from bench.seed import BenchDatabase
from bench.servers import Server, get_json


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
        if state["status"] in ("completed", "failed"):
            break
        time.sleep(0.1)
    completed = time.perf_counter() - started
    drained = queue.wait_drained(db, timeout_s=900)
    total = time.perf_counter() - started
    return {
        "rows": rows,
        "status": state.get("status"),
        "counts": state.get("counts"),
        "upload_s": round(uploaded, 2),
        "completed_s": round(completed, 2),
        "rows_per_s_completed": round(rows / completed, 1),
        "dedup_drained_s": round(total, 2) if drained >= 0 else None,
        "rows_per_s_incl_dedup": round(rows / total, 1) if drained >= 0 else None,
        "cpu_s": round(server.cpu_seconds() - cpu, 2),
    }
