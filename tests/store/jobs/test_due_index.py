"""The queue's readings of pending jobs (the claim's candidates, the pending count of health
checks) are served by the partial index ``jobs_due`` (migration 0004), not by a scan of every
job kept (done jobs stay a week: the table is mostly them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import peewee
import pytest

from store import db
from store.jobs import claims, upkeep
from store.models import Job
from store.prepared import param
from tests.support import BACKEND, analyzed_sqlite, query_plan

SHAPES: list[claims.Shape] = [
    (False, ("dedup",), (), False),  # the worker's batched claim
    (False, None, ("dedup",), False),  # the worker's claim of the other kinds
    (True, None, (), False),  # one tenant's (tests, a dedicated worker)
]


# Values for the claim's `param` markers (PostgreSQL parses a marker where a timestamp goes).
VALUES = {param("now"): dt.datetime(2026, 6, 1), param("tenant_id"): "tnt", param("limit"): 20}

INSERT_JOBS = (
    "INSERT INTO jobs (tenant_id, id, kind, payload, state, attempts, max_attempts, run_at,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 5, '2026-01-01', '2026-01-01', '2026-01-01')"
)


def _queries() -> list[tuple[peewee.Query, bool]]:
    """Each query, and whether it is one tenant's: that one may take the tenant's pending rows
    from the index led by (tenant_id, state) instead."""
    counts = [(upkeep.pending(None), False), (upkeep.pending("tnt"), True)]
    return [
        *((query.select(peewee.fn.COUNT(Job.id)), by_tenant) for query, by_tenant in counts),
        *((claims._claimable(shape), shape[0]) for shape in SHAPES),
    ]


def _served(plan: str, by_tenant: bool) -> bool:
    return "jobs_due" in plan or (by_tenant and "jobs_tenant_id_state_run_at" in plan)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's planner after ANALYZE")
def test_sqlite_reads_pending_jobs_from_the_due_index(app: Any, tmp_path: Path) -> None:
    rows = [
        ("tnt", f"j{i:015d}", "dedup", "{}", "done" if i % 100 else "queued")
        for i in range(5_000)
    ]  # fmt: skip
    with analyzed_sqlite(tmp_path / "jobs.db", INSERT_JOBS, rows) as fresh:
        for query, by_tenant in _queries():  # built for SQLite: the app's database is too
            plan = query_plan(fresh, query, VALUES)
            assert _served(plan, by_tenant) and "'SCAN t1'" not in plan, plan


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's planner")
def test_postgres_can_read_pending_jobs_from_the_due_index(app: Any) -> None:
    with db.database.connection_context(), db.database.atomic():
        db.database.execute_sql("SET LOCAL enable_seqscan = off")  # the test tables are tiny
        for query, by_tenant in _queries():
            plan = query_plan(db.database, query, VALUES)
            assert _served(plan, by_tenant) and "Seq Scan" not in plan, plan
