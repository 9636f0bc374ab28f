"""A ``kill -9`` of the server between a commit and its webhook delivery loses nothing: the
delivery's job committed with the lead, so the restarted server delivers it."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from tests.handlers.cli.test_cli import LEADPIPE, _env, _free_port, create_tenant
from tests.webhook_support import receiver


def _serve(database_url: str, port: int, worker_threads: str) -> subprocess.Popen[str]:
    env = _env(
        database_url,
        LEADPIPE_WORKER_THREADS=worker_threads,
        LEADPIPE_LOG_LEVEL="WARNING",
        LEADPIPE_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
        LEADPIPE_SECRET_KEY="crash-test-secret-key-0123456789abcdef",
    )
    return subprocess.Popen(
        [LEADPIPE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _wait_up(port: int) -> None:
    for _ in range(300):  # a deadline for start-up, not a timing assertion
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def test_a_kill_9_between_commit_and_delivery_still_delivers_after_restart(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'crash.db'}"
    created = create_tenant(database_url)
    assert created.returncode == 0, created.stderr
    headers = {"X-API-Key": json.loads(created.stdout)["apiKey"]}
    port = _free_port()
    with receiver() as rx:
        first = _serve(database_url, port, worker_threads="0")  # nothing can deliver yet
        try:
            _wait_up(port)
            base = f"http://127.0.0.1:{port}/v1"
            endpoint = httpx.post(
                f"{base}/webhook-endpoints",
                json={"url": rx.url, "events": ["lead.created"]},
                headers=headers,
                timeout=10,
            ).json()["data"]
            lead = httpx.post(
                f"{base}/leads",
                json={"email": "crash@example.com", "firstName": "C", "lastName": "K"},
                headers=headers,
                timeout=10,
            )
            assert lead.status_code == 201, lead.text
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        assert rx.received == []
        second = _serve(database_url, port, worker_threads="1")
        try:
            for _ in range(600):  # until the restarted worker delivers (a deadline, not an assertion)
                if rx.received:
                    break
                time.sleep(0.1)
        finally:
            second.terminate()
            second.wait(timeout=30)
    [request] = rx.received
    assert request.payload["data"]["object"]["id"] == lead.json()["data"]["id"]
    Webhook(endpoint["secret"]).verify(request.body, request.headers)
