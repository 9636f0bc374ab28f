"""Start, probe and stop the servers under test; read their peak RSS from /proc.

Every server is one process with one uvicorn worker on 127.0.0.1 (uvloop + httptools where
installed, as uvicorn picks them), started from the bench's own interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.seed import leadpipe_bin

TARGETS = ("leadpipe", "leadpipe_off", "ceiling", "floor")
# Leadpipe variants: each gets its own copy of the database (seeded alike), so one server's job
# worker never runs (and is never billed for) the jobs another server's creates enqueued.
LEADPIPES = ("leadpipe", "leadpipe_off", "leadpipe_before")
MODULES = {
    "ceiling": "bench.ceiling:app_factory",
    "floor": "bench.floor:app_factory",
    "leadpipe_stock": "bench.stock:app_factory",
}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float | None:
        """VmHWM: the resident-set high-water mark of the server process since it started."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (all threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(name: str, port: int) -> list[str]:
    if name in LEADPIPES:
        return [leadpipe_bin(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    module = MODULES[name]
    return [
        sys.executable, "-m", "uvicorn", "--factory", module, "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def start(name: str, database_url: str, tenant_id: str, logdir: Path, extra_env: dict[str, str]) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "LEADPIPE_DATABASE_URL": database_url,
        "LEADPIPE_BENCH_TENANT": tenant_id,
        # Production-like: no response validation (STACK-NOTES: ~14 %), no access log.
        "LEADPIPE_VALIDATE_RESPONSES": "false",
        "LEADPIPE_LOG_LEVEL": "WARNING",
        # One client IP sends everything, and the bench measures throughput, not quotas: the
        # limiter still runs (its cost is Leadpipe's), with budgets the load cannot exhaust.
        "LEADPIPE_RATE_LIMIT_PER_IP": "off",
        "LEADPIPE_RATE_LIMITS": "enterprise=10000000/1000000",
        # The in-process job worker as users run it (the default, one thread); `leadpipe_off`
        # turns it off, to show the request path alone beside it.
        "LEADPIPE_WORKER_THREADS": "0" if name == "leadpipe_off" else "1",
        **extra_env,
    }
    log = logdir / f"{name}-{port}.log"
    # A tree given on PYTHONPATH (``--before``) must also be the working directory: a console
    # script that runs ``python -c`` (as the worktree venvs' does) puts the working directory
    # first on sys.path, ahead of PYTHONPATH, and the bench runs in the worktree, whose
    # packages would then shadow the old tree's (the "before" server ran the new code).
    tree = extra_env.get("PYTHONPATH", "").split(os.pathsep)[0] or None
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            _command(name, port), env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=tree
        )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.base}/v1/health", timeout=2) as reply:
                if reply.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer /v1/health within 60 s")


def get_json(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())
