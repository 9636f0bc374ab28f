"""A real ``leadpipe serve`` on a free port with a fresh SQLite database and a seeded tenant.

For the checks that must go through a real server and socket, as their users would: the
generated-client scenario (tests/client_scenario.py) and the ``st run`` CLI contract test.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OWNER_PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # e.g. http://127.0.0.1:8123/v1
    api_key: str
    owner_email: str
    tenant_id: str

    @property
    def spec_url(self) -> str:
        return f"{self.base_url}/openapi.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _leadpipe() -> list[str]:
    return [sys.executable, "-c", "import sys; from handlers.cli import main; sys.exit(main())"]


@contextlib.contextmanager
def live_server(**env_overrides: str) -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="leadpipe-live-") as scratch:
        env = {
            **os.environ,
            "LEADPIPE_DATABASE_URL": f"sqlite:///{Path(scratch) / 'leadpipe.db'}",
            "LEADPIPE_SECRET_KEY": "live-server-secret-key-0123456789abcdef",
            "LEADPIPE_VALIDATE_RESPONSES": "true",
            "LEADPIPE_RATE_LIMIT_PER_IP": "off",
            "LEADPIPE_RATE_LIMITS": "enterprise=10000000/1000000",
            "LEADPIPE_LOG_LEVEL": "WARNING",
            **env_overrides,
        }
        email = "owner@live.example.com"
        created = subprocess.run(
            [*_leadpipe(), "tenant", "create", "live", "--plan", "enterprise", "--owner-email", email,
             "--owner-password", OWNER_PASSWORD, "--json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        tenant = json.loads(created.stdout.strip().splitlines()[-1])
        port = _free_port()
        log = open(Path(scratch) / "server.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [*_leadpipe(), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base_url = f"http://127.0.0.1:{port}/v1"
        try:
            _wait_until_up(f"{base_url}/health", process)
            yield LiveServer(base_url, tenant["apiKey"], email, tenant["tenantId"])
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"leadpipe serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within a minute")
