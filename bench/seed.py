"""Databases for a bench run: create, migrate with the real migrations, provision a tenant, bulk-seed.

Seeding goes straight to the database (never through the HTTP API): the lead indexes from the
real migration are dropped, rows are bulk-inserted (SQLite ``executemany`` in one transaction,
PostgreSQL ``COPY``), and the indexes are re-created from their own stored DDL, so the schema
measured is exactly the one `store/migrations` builds.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import sqlite3
import string
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ALPHABET = string.ascii_letters + string.digits
FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis")
STATUSES = ("new", "new", "contacted", "qualified", "unqualified")  # 40 % new
LEAD_COLUMNS = (
    "tenant_id", "id", "environment", "email", "email_normalized", "first_name", "last_name",
    "phone", "phone_e164", "company", "title", "industry", "message", "source", "status", "score",
    "assigned_to", "custom_fields", "tags", "version", "created_at", "updated_at",
)  # fmt: skip
# The list workload: status=new AND q matches company 'Acme Corp' -> 20 % of the tenant's leads.
LIST_STATUS, LIST_Q = "new", "acme"
BASE_TIME = dt.datetime(2025, 1, 1)


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" | "postgres"
    url: str
    admin_url: str | None = None
    name: str | None = None
    path: Path | None = None


def leadpipe_bin() -> str:
    """The ``leadpipe`` console script of the interpreter running the bench (venv or tox env)."""
    candidate = Path(sys.executable).with_name("leadpipe")
    return str(candidate) if candidate.exists() else "leadpipe"


def create_database(kind: str, workdir: Path, postgres_url: str) -> BenchDatabase:
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        return BenchDatabase("sqlite", f"sqlite:///{path}", path=path)
    import psycopg2

    name = f"leadpipe_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(postgres_url, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = urlunparse(urlparse(postgres_url)._replace(path=f"/{name}"))
    return BenchDatabase("postgres", url, admin_url=postgres_url, name=name)


def drop_database(db: BenchDatabase) -> None:
    if db.kind == "sqlite":
        assert db.path is not None
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db.path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg2

    admin = psycopg2.connect(db.admin_url, connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (db.name,),
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{db.name}"')
    admin.close()


def provision(db: BenchDatabase) -> dict[str, str]:
    """Real migrations plus ``leadpipe tenant create --json``: returns tenantId and apiKey."""
    env = {**os.environ, "LEADPIPE_DATABASE_URL": db.url, "LEADPIPE_LOG_LEVEL": "WARNING"}
    subprocess.run([leadpipe_bin(), "migrate"], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [leadpipe_bin(), "tenant", "create", "bench", "--plan", "enterprise", "--json",
         "--owner-email", "bench@leadpipe.local", "--owner-password", "bench-password-123"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result: dict[str, str] = json.loads(out.strip().splitlines()[-1])
    return result


def _rows(tenant_id: str, start: int, stop: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(start)
    for i in range(start, stop):
        created = BASE_TIME + dt.timedelta(seconds=i * 3, microseconds=rng.randint(1, 999_999))
        email = f"lead{i}@example{i % 97}.com"
        company = "Acme Corp" if i % 2 == 0 else f"Globex {i % 50}"
        yield (
            tenant_id, "".join(rng.choices(ALPHABET, k=16)), "live", email, email,
            FIRST_NAMES[i % len(FIRST_NAMES)], f"Name{i}", None, None, company, "Buyer", "Software",
            None, "web", STATUSES[i % len(STATUSES)], i % 101, None, "{}", "[]", 1, created, created,
        )  # fmt: skip


def count_leads(db: BenchDatabase, tenant_id: str) -> int:
    with _connect(db) as conn:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM leads WHERE tenant_id = {_ph(db)}", (tenant_id,))
        return int(cursor.fetchone()[0])


def seed_leads(db: BenchDatabase, tenant_id: str, target: int) -> int:
    """Bring the tenant to at least ``target`` leads; returns how many rows were inserted."""
    have = count_leads(db, tenant_id)
    if have >= target:
        return 0
    start = 10_000_000 + have  # distinct from rows seeded earlier and from the API's creates
    if db.kind == "sqlite":
        _seed_sqlite(db, tenant_id, start, start + target - have)
    else:
        _seed_postgres(db, tenant_id, start, start + target - have)
    _recount(db, tenant_id)
    return target - have


def _recount(db: BenchDatabase, tenant_id: str) -> None:
    """Seeding bypasses the store, so bring the quota counter (store/limits/quotas.py) in line."""
    with _connect(db) as conn:
        cursor = conn.cursor()
        cursor.execute(f"DELETE FROM lead_counts WHERE tenant_id = {_ph(db)}", (tenant_id,))
        cursor.execute(
            "INSERT INTO lead_counts (tenant_id, environment, count) "
            f"SELECT tenant_id, environment, COUNT(*) FROM leads WHERE tenant_id = {_ph(db)} "
            "GROUP BY tenant_id, environment",
            (tenant_id,),
        )
        conn.commit()


def _seed_sqlite(db: BenchDatabase, tenant_id: str, start: int, stop: int) -> None:
    conn = sqlite3.connect(str(db.path), isolation_level=None)
    conn.execute("PRAGMA cache_size = -1000000")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads' AND sql IS NOT NULL"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    marks = ", ".join("?" * len(LEAD_COLUMNS))
    rows = (
        (*row[:-2], row[-2].isoformat(" "), row[-1].isoformat(" ")) for row in _rows(tenant_id, start, stop)
    )
    conn.executemany(f"INSERT INTO leads ({', '.join(LEAD_COLUMNS)}) VALUES ({marks})", rows)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


def _seed_postgres(db: BenchDatabase, tenant_id: str, start: int, stop: int) -> None:
    import psycopg2

    conn = psycopg2.connect(db.url)
    with conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'leads' AND indexname <> 'leads_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        batch = 100_000
        for low in range(start, stop, batch):
            buffer = io.StringIO()
            for row in _rows(tenant_id, low, min(stop, low + batch)):
                buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
            buffer.seek(0)
            cursor.copy_expert(f"COPY leads ({', '.join(LEAD_COLUMNS)}) FROM STDIN", buffer)
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, sql in indexes:
            cursor.execute(sql)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE leads")
    conn.close()


def sample_ids(db: BenchDatabase, tenant_id: str, n: int = 2000) -> list[str]:
    with _connect(db) as conn:
        cursor = conn.cursor()
        cursor.execute(
            f"SELECT id FROM leads WHERE tenant_id = {_ph(db)} ORDER BY random() LIMIT {n}", (tenant_id,)
        )
        return [row[0] for row in cursor.fetchall()]


class _connect:
    """A plain DB-API connection for bench bookkeeping, closed on exit."""

    def __init__(self, db: BenchDatabase) -> None:
        self.db = db

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.db.kind == "sqlite":
            self.conn = sqlite3.connect(str(self.db.path))
        else:
            import psycopg2

            self.conn = psycopg2.connect(self.db.url)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _ph(db: BenchDatabase) -> str:
    return "?" if db.kind == "sqlite" else "%s"
