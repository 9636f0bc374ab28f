"""Export throughput and memory: stream ``GET /v1/leads/export`` once, count rows, and watch the
server's resident set while it streams (target: growth under 100 MB at 1M leads)."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.servers import Server


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(server: Server, headers: dict[str, str], timeout_s: float = 900) -> dict[str, Any]:
    pid = server.process.pid
    before = _rss_mb(pid)
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    rows, size = -1, 0  # the header row is not a lead
    started = time.perf_counter()
    request = urllib.request.Request(f"{server.base}/v1/leads/export", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:
            status = reply.status
            while chunk := reply.read(1 << 16):
                size += len(chunk)
                rows += chunk.count(b"\r\n")
    finally:
        done.set()
        watcher.join()
    seconds = time.perf_counter() - started
    return {
        "status": status,
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1) if seconds else 0.0,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(peak[0], 1),
        "rss_growth_mb": round(peak[0] - before, 1),
    }
