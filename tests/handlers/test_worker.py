"""The worker loop: in a thread (as inside `leadpipe serve`) and as the `leadpipe worker` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from handlers import worker
from store.ids import new_id
from store.jobs import queue as jobs

ROOT = Path(__file__).resolve().parents[2]


def test_background_threads_run_queued_jobs_until_stopped(app: Any) -> None:
    tenant_id = new_id()
    job = jobs.enqueue(tenant_id, "dedup", {"leadId": new_id()})  # a lead that no longer exists
    stop = threading.Event()
    threads = worker.start_threads(2, stop, tenant_id)
    try:
        for _ in range(200):  # poll the outcome, not the clock: the threads own the timing
            if jobs.get_job(tenant_id, job.id).state == jobs.DONE:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    finished = jobs.get_job(tenant_id, job.id)
    assert finished.state == jobs.DONE
    assert finished.result == {
        "leadId": job.payload["leadId"],
        "matches": 0,
        "skipped": "lead no longer exists",
    }
    assert not any(thread.is_alive() for thread in threads)


def test_the_worker_command_stops_cleanly_on_sigterm(database_url: str) -> None:
    env = {**os.environ, "LEADPIPE_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "worker", "--threads", "2", "--tenant", new_id()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        # Printed once SIGTERM is handled (the threads' own "started" log lines may come first).
        assert any("thread(s) running" in process.stdout.readline() for _ in range(10))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
