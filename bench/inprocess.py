"""CPU per request of the ASGI app called directly, in this process: no uvicorn, no socket, no
job worker. Steadier than the HTTP bench for comparing two versions of the request path on a
shared box (min of several repetitions; run each tree in turn).

``python -m bench.inprocess get|list|create [--requests N] [--concurrency C] [--reps R]``, with
``PYTHONPATH=<tree>`` to measure another tree (e.g. ``git archive main`` unpacked somewhere).
Prints process CPU (user + system), voluntary/involuntary context switches and wall time per
request. ``--profile`` prints a cProfile of the event loop thread instead (coroutine resumes
count as calls there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import seed

ENV = {
    "LEADPIPE_VALIDATE_RESPONSES": "false",
    "LEADPIPE_LOG_LEVEL": "WARNING",
    "LEADPIPE_RATE_LIMIT_PER_IP": "off",
    "LEADPIPE_RATE_LIMITS": "enterprise=10000000/1000000",
    "LEADPIPE_WORKER_THREADS": "0",
}


def _request(op: str, i: int, ids: list[str]) -> tuple[str, str, bytes, bytes]:
    if op == "get":
        return "GET", f"/v1/leads/{ids[i % len(ids)]}", b"", b""
    if op == "list":
        return "GET", "/v1/leads", b"status=new&q=acme&limit=20", b""
    lead = {
        "firstName": "A",
        "lastName": "B",
        "email": f"p{os.getpid()}-{i}@example.com",
        "company": "Acme Corp",
    }
    return "POST", "/v1/leads", b"", json.dumps(lead).encode()


async def _one(app: Any, key: bytes, op: str, i: int, ids: list[str]) -> None:
    method, path, query, body = _request(op, i, ids)
    headers = [(b"host", b"127.0.0.1"), (b"x-api-key", key), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query, "headers": headers, "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # a client that stays connected
        return {"type": "http.disconnect"}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if not statuses or statuses[0] >= 300:
        raise RuntimeError(f"{method} {path}: {statuses}")


async def _round(app: Any, key: bytes, op: str, ids: list[str], start: int, n: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> None:
        async with gate:
            await _one(app, key, op, i, ids)

    await asyncio.gather(*(guarded(start + i) for i in range(n)))


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m bench.inprocess")
    cli.add_argument("op", choices=("get", "list", "create"))
    cli.add_argument("--requests", type=int, default=1500)
    cli.add_argument("--concurrency", type=int, default=16)
    cli.add_argument("--reps", type=int, default=4)
    cli.add_argument("--leads", type=int, default=2000)
    cli.add_argument("--profile", action="store_true")
    args = cli.parse_args()
    db = seed.create_database("sqlite", Path(tempfile.mkdtemp(prefix="leadpipe-inprocess-")), "")
    tenant = seed.provision(db)
    seed.seed_leads(db, tenant["tenantId"], args.leads)
    ids = seed.sample_ids(db, tenant["tenantId"], 500)
    os.environ.update({**ENV, "LEADPIPE_DATABASE_URL": db.url})
    from handlers import logging_setup
    from handlers.app import create_app
    from handlers.settings import Settings

    settings = Settings.from_env()
    logging_setup.configure(settings)
    app, key = create_app(settings), tenant["apiKey"].encode()

    async def run() -> None:
        await _round(app, key, args.op, ids, 0, 200, 1)  # warm-up: threads, connections, caches
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            await _round(app, key, args.op, ids, 10_000, args.requests, args.concurrency)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
            return
        best = float("inf")
        for rep in range(args.reps):
            before, cpu, wall = (
                resource.getrusage(resource.RUSAGE_SELF),
                time.process_time(),
                time.perf_counter(),
            )
            await _round(app, key, args.op, ids, 10_000 * (rep + 1), args.requests, args.concurrency)
            after, n = resource.getrusage(resource.RUSAGE_SELF), args.requests
            per = 1000 * (time.process_time() - cpu) / n
            best = min(best, per)
            user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
            switches = (after.ru_nvcsw - before.ru_nvcsw) / n, (after.ru_nivcsw - before.ru_nivcsw) / n
            print(
                f"{args.op} rep {rep}: cpu {per:.3f} ms/req (user {1000 * user / n:.3f}"
                f" sys {1000 * system / n:.3f}), wall {1000 * (time.perf_counter() - wall) / n:.3f} ms/req,"
                f" context switches {switches[0]:.1f} voluntary {switches[1]:.1f} involuntary per request",
                flush=True,
            )
        print(f"{args.op}: best cpu {best:.3f} ms/req at concurrency {args.concurrency}")

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())


if __name__ == "__main__":
    main()
