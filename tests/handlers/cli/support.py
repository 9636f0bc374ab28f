"""Running ``leadpipe`` as a user does: a subprocess on a database of its own (SQLite file or a
fresh PostgreSQL database, following ``LEADPIPE_TEST_DATABASE``)."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg2

from tests.support import BACKEND, POSTGRES_URL

LEADPIPE = str(Path(sys.executable).parent / "leadpipe")
# ``python -m handlers.cli``: the module guards its main, so uvicorn's spawned workers
# (``--workers N``) can re-import it; this venv's hand-made bin/leadpipe has no such guard.
SERVE = [sys.executable, "-m", "handlers.cli", "serve"]


def env(database_url: str, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEADPIPE_")}
    return {**base, "LEADPIPE_DATABASE_URL": database_url, **extra}


@contextlib.contextmanager
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database no other test uses (a server's job threads would otherwise run their jobs)."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path / 'served.db'}"
        return
    name = f"leadpipe_served_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_URL, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(POSTGRES_URL)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the server's database directly, as an operator would."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            return list(conn.execute(sql).fetchall())
    with contextlib.closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``leadpipe serve`` in a subprocess; its output goes to files (a full pipe would block it)."""

    def __init__(self, database_url: str, logs: Path, *args: str, **extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout: IO[bytes] = open(logs / f"serve-{self.port}.out", "wb")  # noqa: SIM115
        self.stderr_path = logs / f"serve-{self.port}.err"
        self.stderr: IO[bytes] = open(self.stderr_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [*SERVE, "--port", str(self.port), *args],
            env=env(database_url, **extra),
            stdout=self.stdout,
            stderr=self.stderr,
        )

    def wait_ready(self, deadline_seconds: float = 60) -> None:
        """Poll until it answers (a bound for a broken build, not a measurement)."""
        end = time.monotonic() + deadline_seconds
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}: {self.errors()}")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not come up: {self.errors()}")

    def errors(self) -> str:
        if not self.stderr.closed:
            self.stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no cleanup, no commit of what is in flight
        self.process.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        self.stdout.close()
        self.stderr.close()
