"""Real processes for the tests that must run Leadpipe as its users do: ``leadpipe serve`` (and
the other CLI commands) in a subprocess on a database of its own, and a throwaway redis-server.

The server runs as ``python -m handlers.cli`` rather than the venv's ``leadpipe`` script: with
``--workers N`` uvicorn spawns workers that re-import the main module, and only a module run
keeps its ``if __name__ == "__main__"`` guard. Its output goes to files (a full pipe would
block it), named by port so that several servers can share one log folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg2

from tests.support import BACKEND, OWNER_PASSWORD, POSTGRES_URL

CLI = [sys.executable, "-m", "handlers.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without our settings (a test names every one it means)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADPIPE_", "PROMETHEUS_"))}
    return {**env, **extra}


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=clean_env(**env), capture_output=True, text=True, timeout=180)


def create_tenant(
    database_url: str, name: str = "Acme", email: str = "o@acme.example", plan: str = "enterprise", **env: str
) -> dict[str, Any]:
    """``leadpipe tenant create --json``: the tenant, its owner (``OWNER_PASSWORD``) and its key."""
    created = run_cli(
        "tenant", "create", name, "--plan", plan, "--owner-email", email,
        "--owner-password", OWNER_PASSWORD, "--json",
        **{**env, "LEADPIPE_DATABASE_URL": database_url},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    made: dict[str, Any] = json.loads(created.stdout.strip().splitlines()[-1])
    return made


@contextlib.contextmanager
def fresh_postgres(url: str = POSTGRES_URL, prefix: str = "leadpipe_served") -> Iterator[str]:
    """An empty PostgreSQL database on the server of ``url``, dropped (connections and all) after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(url, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(url)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database no other test uses (a server's job threads would otherwise run their jobs)."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path / 'served.db'}"
        return
    with fresh_postgres() as url:
        yield url


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the server's database directly, as an operator would."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            return list(conn.execute(sql).fetchall())
    with contextlib.closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


class Server:
    """``leadpipe serve`` in a subprocess, started at construction; ``wait_ready`` before use.

    ``workers``: adds ``--workers N``; ``factory``: plain ``uvicorn --factory
    handlers.asgi:app_factory`` instead, which (unlike serve, which migrates first) starts
    without a reachable database.
    """

    def __init__(
        self, logdir: Path, *args: str, workers: int | None = None, factory: bool = False, **env: str
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout = logdir / f"serve-{self.port}.out"
        self.stderr = logdir / f"serve-{self.port}.err"
        command = [*CLI, "serve", "--port", str(self.port), *args]
        if workers is not None:
            command += ["--workers", str(workers)]
        if factory:
            command = [sys.executable, "-m", "uvicorn", "--factory", "handlers.asgi:app_factory"]
            command += ["--port", str(self.port)]
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(command, env=clean_env(**env), stdout=out, stderr=err)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Poll /v1/health until it answers (a bound for a broken build, not a measurement)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not come up:\n{self.log()[-3000:]}")

    def errors(self) -> str:
        return self.stderr.read_text(errors="replace")

    def log(self) -> str:
        return self.stdout.read_text(errors="replace") + self.errors()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no commit of what is in flight."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        stop(self.process)


@contextlib.contextmanager
def serving(
    logdir: Path, *args: str, workers: int = 1, factory: bool = False, **env: str
) -> Iterator[Server]:
    """A ready ``leadpipe serve`` on a free port until the block ends (SIGTERM, then a clean exit)."""
    server = Server(logdir, *args, workers=workers, factory=factory, **env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@dataclass
class ServerPair:
    """Two servers on one database, a client of each, and the tenant made for them."""

    a: httpx.Client
    b: httpx.Client
    tenant: dict[str, Any]
    database_url: str
    servers: tuple[Server, Server]

    def errors(self) -> str:
        return "".join(server.errors() for server in self.servers)


@contextlib.contextmanager
def two_servers(logdir: Path, **env: str) -> Iterator[ServerPair]:
    """Two ``leadpipe serve`` on one database of their own (as the processes of ``--workers 2``
    share it; job threads off), a client of each, and an enterprise tenant made by the CLI."""
    env = {"LEADPIPE_WORKER_THREADS": "0", **env}
    with own_database(logdir) as url, serving(logdir, LEADPIPE_DATABASE_URL=url, **env) as server_a:
        made = create_tenant(url, plan="enterprise")
        with (
            serving(logdir, LEADPIPE_DATABASE_URL=url, **env) as server_b,
            httpx.Client(base_url=server_a.base) as a,
            httpx.Client(base_url=server_b.base) as b,
        ):
            yield ServerPair(a, b, made, url, (server_a, server_b))


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
