"""The job queue of a bench database, read straight from its tables: how many jobs are still
pending (so a create round can be billed until its dedup jobs are done), and how long each
create waited for its ``duplicateOf`` (dedup job created -> done, from the job's own stamps)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bench.driver import percentile
from bench.seed import BenchDatabase, _connect, _ph

PENDING = "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')"


def wait_drained(db: BenchDatabase, timeout_s: float = 300.0) -> float:
    """Block until no job is queued or running; returns the seconds waited (-1 on timeout).

    One connection for the whole wait, polled every 50 ms: a new PostgreSQL connection per
    poll (a backend fork) would steal the CPU the server drains with on a 2-core box."""
    started = time.perf_counter()
    with _connect(db) as conn:
        if db.kind == "postgres":
            conn.autocommit = True  # each poll sees the latest commits
        cursor = conn.cursor()
        while True:
            cursor.execute(PENDING)
            if not int(cursor.fetchone()[0]):
                return round(time.perf_counter() - started, 3)
            if time.perf_counter() - started > timeout_s:
                return -1.0
            time.sleep(0.05)


def _stamp(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def dedup_latency(db: BenchDatabase, tenant_id: str, email_like: str) -> dict[str, Any]:
    """For the API creates whose email matches ``email_like``: their dedup job's created_at
    (stamped in the create's transaction, just before its commit and 201) to finished_at
    (stamped when the job's matches are stored), and how many of them have ``duplicateOf`` set.
    """
    ph = _ph(db)
    json_lead = (
        "json_extract(j.payload, '$.leadId')" if db.kind == "sqlite" else "(j.payload::json->>'leadId')"
    )
    with _connect(db) as conn:
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT j.created_at, j.finished_at, l.duplicate_of FROM jobs j JOIN leads l "
            f"ON l.tenant_id = j.tenant_id AND l.id = {json_lead} "
            f"WHERE j.tenant_id = {ph} AND j.kind = 'dedup' AND j.state = 'done' AND l.email LIKE {ph}",
            (tenant_id, email_like),
        )
        rows = cursor.fetchall()
    waits = sorted((_stamp(done) - _stamp(made)).total_seconds() * 1000 for made, done, _ in rows)
    return {
        "jobs": len(rows),
        "with_duplicate_of": sum(1 for *_, dup in rows if dup),
        "p50_ms": round(percentile(waits, 50), 1) if waits else None,
        "p99_ms": round(percentile(waits, 99), 1) if waits else None,
        "max_ms": round(waits[-1], 1) if waits else None,
    }
