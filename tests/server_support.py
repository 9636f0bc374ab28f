"""Real processes for the operations tests: a ``leadpipe serve`` and a throwaway redis-server.

The server runs as ``python -m handlers.cli`` rather than the venv's ``leadpipe`` script: with
``--workers N`` uvicorn spawns workers that re-import the main module, and only a module run
keeps its ``if __name__ == "__main__"`` guard (pip's generated scripts have one too).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "handlers.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADPIPE_", "PROMETHEUS_"))}
    return {**env, **extra}


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=clean_env(**env), capture_output=True, text=True, timeout=180)


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


def _wait_until_up(server: Server, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"leadpipe serve exited at start:\n{server.log()[-3000:]}")
        try:
            if httpx.get(f"{server.base}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"leadpipe serve did not come up:\n{server.log()[-3000:]}")


@contextlib.contextmanager
def serving(
    logdir: Path, *args: str, workers: int = 1, factory: bool = False, **env: str
) -> Iterator[Server]:
    """``leadpipe serve`` on a free port until the block ends (SIGTERM, then a clean exit).

    ``factory``: plain ``uvicorn --factory handlers.asgi:app_factory`` instead, which (unlike
    serve, which migrates first) starts without a reachable database.
    """
    port = free_port()
    stdout, stderr = logdir / "server.out", logdir / "server.err"
    command = [*CLI, "serve", "--port", str(port), "--workers", str(workers), *args]
    if factory:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "handlers.asgi:app_factory",
            "--port",
            str(port),
        ]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, env=clean_env(**env), stdout=out, stderr=err)
    server = Server(port, process, stdout, stderr)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A throwaway redis-server (no persistence) on a free port; stop it early to test outages."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        yield port, process
    finally:
        stop(process)
