"""Webhook delivery latency, commit -> receiver, under a create load.

``python -m bench.webhook_latency [--leads 1000] [--concurrency 8] [--worker-threads 2]
[--database-url URL]`` starts ``leadpipe serve`` (its worker threads deliver), points one
webhook endpoint at a receiver in this process, creates leads over HTTP and, for each
``lead.created`` delivery, measures receiver arrival minus the event's ``createdAt`` (stamped in
the creating transaction just before its commit, so a slight over-estimate). Every delivery's
signature is verified with ``standardwebhooks``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

LEADPIPE = str(Path(sys.executable).parent / "leadpipe")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--worker-threads", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    arrivals: dict[str, float] = {}
    bodies: list[tuple[bytes, dict[str, str]]] = []
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            now = time.time()
            with lock:
                payload = json.loads(body)
                arrivals.setdefault(
                    payload["id"], now - datetime.fromisoformat(payload["timestamp"]).timestamp()
                )
                bodies.append((body, dict(self.headers)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LEADPIPE_")},
            "LEADPIPE_DATABASE_URL": url,
            "LEADPIPE_WORKER_THREADS": str(args.worker_threads),
            "LEADPIPE_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
            "LEADPIPE_LOG_LEVEL": "WARNING",
            "LEADPIPE_RATE_LIMITS": "pro=10000000/1000000",
            "LEADPIPE_VALIDATE_RESPONSES": "false",
        }
        made = subprocess.run(
            [
                LEADPIPE,
                "tenant",
                "create",
                "bench",
                "--plan",
                "pro",
                "--owner-email",
                "b@bench.example",
                "--owner-password",
                "correct horse battery",
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        headers = {"X-API-Key": json.loads(made.stdout)["apiKey"]}
        port = _port()
        serve = subprocess.Popen([LEADPIPE, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{base}/health", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
            endpoint = httpx.post(
                f"{base}/webhook-endpoints", json={"url": hook, "events": ["lead.created"]}, headers=headers
            ).json()["data"]
            started = time.monotonic()
            with (
                httpx.Client(headers=headers, timeout=30) as client,
                ThreadPoolExecutor(args.concurrency) as pool,
            ):
                body = {"firstName": "B", "lastName": "L"}
                statuses = list(
                    pool.map(
                        lambda i: (
                            client.post(
                                f"{base}/leads", json={**body, "email": f"b{i}@bench.example"}
                            ).status_code
                        ),
                        range(args.leads),
                    )
                )
            load_seconds = time.monotonic() - started
            deadline = time.monotonic() + 120
            while len(arrivals) < args.leads and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    server.shutdown()
    for raw, hdrs in bodies:
        Webhook(endpoint["secret"]).verify(raw, hdrs)
    latencies = sorted(arrivals.values())
    q = statistics.quantiles(latencies, n=100)
    print(
        f"created {statuses.count(201)}/{args.leads} leads in {load_seconds:.1f} s "
        f"({args.leads / load_seconds:.0f}/s, concurrency {args.concurrency}); delivered {len(latencies)} "
        f"(all signatures verified); worker threads {args.worker_threads}"
    )
    print(
        f"commit -> receiver: p50 {q[49] * 1000:.0f} ms, p90 {q[89] * 1000:.0f} ms, "
        f"p99 {q[98] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    return 0 if len(latencies) == args.leads else 1


if __name__ == "__main__":
    sys.exit(main())
