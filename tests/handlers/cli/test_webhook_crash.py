"""A ``kill -9`` of the server between a commit and its webhook delivery loses nothing: the
delivery's job committed with the lead, so the restarted server delivers it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from tests.server_support import Server, create_tenant
from tests.webhook_support import receiver


def _serve(tmp_path: Path, database_url: str, worker_threads: str) -> Server:
    server = Server(
        tmp_path,
        LEADPIPE_DATABASE_URL=database_url,
        LEADPIPE_WORKER_THREADS=worker_threads,
        LEADPIPE_LOG_LEVEL="WARNING",
        LEADPIPE_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
        LEADPIPE_SECRET_KEY="crash-test-secret-key-0123456789abcdef",
    )
    server.wait_ready()
    return server


def test_a_kill_9_between_commit_and_delivery_still_delivers_after_restart(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'crash.db'}"
    headers = {"X-API-Key": create_tenant(database_url)["apiKey"]}
    with receiver() as rx:
        first = _serve(tmp_path, database_url, worker_threads="0")  # nothing can deliver yet
        try:
            endpoint = httpx.post(
                f"{first.base}/v1/webhook-endpoints",
                json={"url": rx.url, "events": ["lead.created"]},
                headers=headers,
                timeout=10,
            ).json()["data"]
            lead = httpx.post(
                f"{first.base}/v1/leads",
                json={"email": "crash@example.com", "firstName": "C", "lastName": "K"},
                headers=headers,
                timeout=10,
            )
            assert lead.status_code == 201, lead.text
        finally:
            first.kill()
        assert rx.received == []
        second = _serve(tmp_path, database_url, worker_threads="1")
        try:
            for _ in range(600):  # until the restarted worker delivers (a deadline, not an assertion)
                if rx.received:
                    break
                time.sleep(0.1)
        finally:
            second.stop()
    [request] = rx.received
    assert request.payload["data"]["object"]["id"] == lead.json()["data"]["id"]
    Webhook(endpoint["secret"]).verify(request.body, request.headers)
