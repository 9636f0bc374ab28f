"""``kill -9`` of ``leadpipe serve`` with jobs pending, then a restart, several times over.

Once, 17 restarts of 21 logged ``IndexError: pop from empty list`` from a job thread and one left
every write answering 503 for 40 s+: uvicorn's factory re-bound the database proxy under a job
thread mid-transaction. Now the database is bound once per process, and a restart also releases
at once the jobs the killed process held (instead of after their 5-minute lease).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

from tests.server_support import Server, create_tenant, own_database, query, run_cli

CYCLES = 4
IMPORT_SIZE = 300  # leads per cycle by the JSON import (deduplicated in its own transactions)
CSV_ROWS = 2000  # leads per cycle by a CSV import: its job is pending when the process is killed


def _tenant_key(database_url: str) -> str:
    created = create_tenant(database_url)
    return str(created["apiKey"])


def _leads(count: int) -> list[dict[str, str]]:
    return [
        {
            "email": f"p{uuid.uuid4().hex[:10]}@example.com",
            "firstName": "Pat",
            "lastName": uuid.uuid4().hex[:8],
        }
        for _ in range(count)
    ]


def _csv(count: int) -> bytes:
    rows = [f"c{uuid.uuid4().hex[:12]}@example.com,Cy,{uuid.uuid4().hex[:8]}" for _ in range(count)]
    return ("email,firstName,lastName\n" + "\n".join(rows) + "\n").encode()


def _pending(database_url: str) -> int:
    return int(query(database_url, "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")[0][0])


def test_kill_9_with_jobs_pending_then_restart_loses_nothing_and_never_locks_up(tmp_path: Path) -> None:
    with own_database(tmp_path) as database_url:
        migrated = run_cli("migrate", LEADPIPE_DATABASE_URL=database_url)
        assert migrated.returncode == 0, migrated.stderr
        headers = {"X-API-Key": _tenant_key(database_url)}
        settings = {"LEADPIPE_WORKER_THREADS": "2", "LEADPIPE_RATE_LIMIT_PER_IP": "off"}
        statuses: list[int] = []
        stderr = ""
        created = 0  # leads by POST /v1/leads: one dedup job each
        imported = 0  # leads by imports; each CSV import is one job
        csv_imports = 0
        for _ in range(CYCLES):
            server = Server(tmp_path, LEADPIPE_DATABASE_URL=database_url, **settings)
            try:
                server.wait_ready()
                # Writes while the job threads work through what the last process left behind.
                with httpx.Client(base_url=server.base, headers=headers, timeout=60) as http:
                    for lead in _leads(5):
                        statuses.append(http.post("/v1/leads", json=lead).status_code)
                        created += 1
                    statuses.append(http.post("/v1/leads/import", json=_leads(IMPORT_SIZE)).status_code)
                    imported += IMPORT_SIZE
                    upload = http.post(
                        "/v1/leads/import", content=_csv(CSV_ROWS), headers={"Content-Type": "text/csv"}
                    )
                    statuses.append(upload.status_code)
                    imported += CSV_ROWS
                    csv_imports += 1
                assert _pending(database_url) > 0  # killed with work left to do
            finally:
                server.kill()
                stderr += server.errors()

        server = Server(tmp_path, LEADPIPE_DATABASE_URL=database_url, **settings)
        try:
            server.wait_ready()
            with httpx.Client(base_url=server.base, headers=headers, timeout=60) as http:
                end = time.monotonic() + 300  # a bound for a hang, not a measurement
                while _pending(database_url) and time.monotonic() < end:
                    statuses.append(http.post("/v1/leads", json=_leads(1)[0]).status_code)
                    created += 1
                    time.sleep(0.05)
        finally:
            server.stop()
            stderr += server.errors()

        assert _pending(database_url) == 0, stderr[-3000:]
        assert set(statuses) <= {200, 201, 202}, statuses
        states = dict(query(database_url, "SELECT state, COUNT(*) FROM jobs GROUP BY state"))
        assert states == {"done": created + csv_imports}, states
        # Every import row exactly once, across the kills (an import resumes after its last batch).
        assert int(query(database_url, "SELECT COUNT(*) FROM leads")[0][0]) == created + imported
        assert "IndexError" not in stderr and "Traceback" not in stderr, stderr[-3000:]
