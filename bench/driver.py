"""The load generator: a small keep-alive HTTP/1.1 client on plain asyncio, run as its own process.

Why not httpx: on a 2-core box httpx's per-request overhead (~150-250 µs of client CPU) would
make the *driver* the bottleneck when it measures the bare-Starlette ceiling. Writing the request
bytes ourselves and reading a Content-Length (or chunked) reply costs a few µs, so the numbers
describe the server. It is bounded in requests and in time, warms up first, and prints one JSON
object: count, errors, statuses, requests/s and latency percentiles.

Usage (the orchestrator does this): ``python -m bench.driver '<json job>'``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Job:
    host: str
    port: int
    method: str
    paths: list[str]
    headers: dict[str, str]
    # may contain "{n}", replaced by a unique counter per request, and "{pair}" (n // 2): requests
    # 2k and 2k+1 share it, so every second create duplicates the one before it
    body: str | None = None
    concurrency: int = 16
    warmup_s: float = 1.0
    duration_s: float = 5.0
    max_requests: int = 200_000
    keep_latencies: bool = False  # include every latency (ms) so rounds can be merged


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    completed: int = 0  # warm-up included: what the server did while the driver ran


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked = None, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        return status


def _render(job: Job, path: str, n: int) -> bytes:
    lines = [f"{job.method} {path} HTTP/1.1", f"Host: {job.host}:{job.port}"]
    lines += [f"{k}: {v}" for k, v in job.headers.items()]
    payload = b""
    if job.body is not None:
        payload = job.body.replace("{n}", str(n)).replace("{pair}", str(n // 2)).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _worker(
    job: Job, counter: itertools.count, stop: dict[str, float], tally: Tally, record: list
) -> None:
    reader, writer = await asyncio.open_connection(job.host, job.port)
    conn = Connection(reader, writer)
    try:
        while True:
            n = next(counter)
            now = time.perf_counter()
            if now >= stop["end"] or n >= job.max_requests:
                return
            raw = _render(job, job.paths[n % len(job.paths)], n)
            started = time.perf_counter()
            try:
                status = await conn.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(job.host, job.port)
                conn = Connection(reader, writer)
                continue
            elapsed = time.perf_counter() - started
            tally.completed += 1
            if record[0]:
                tally.latencies.append(elapsed)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
    finally:
        writer.close()


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(job: Job) -> dict[str, Any]:
    counter = itertools.count()
    tally = Tally()
    record = [False]
    start = time.perf_counter()
    stop = {"end": start + job.warmup_s + job.duration_s}
    workers = [
        asyncio.create_task(_worker(job, counter, stop, tally, record)) for _ in range(job.concurrency)
    ]
    await asyncio.sleep(job.warmup_s)
    record[0] = True
    measured_from = time.perf_counter()
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - measured_from
    lat = sorted(tally.latencies)
    ok = sum(v for k, v in tally.statuses.items() if 200 <= k < 300)
    return {
        "requests": len(lat),
        "ok": ok,
        "errors": tally.errors,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "seconds": round(elapsed, 3),
        "rps": round(len(lat) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000, 3),
        "p95_ms": round(percentile(lat, 95) * 1000, 3),
        "p99_ms": round(percentile(lat, 99) * 1000, 3),
        "concurrency": job.concurrency,
        "completed": tally.completed,
        **({"latencies_ms": [round(x * 1000, 3) for x in lat]} if job.keep_latencies else {}),
    }


def main(argv: list[str]) -> int:
    job = Job(**json.loads(argv[0]))
    try:
        import uvloop  # the same event loop uvicorn uses; optional

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    print(json.dumps(runner(run(job))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
