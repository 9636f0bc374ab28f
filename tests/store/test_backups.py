"""``leadpipe backup`` while writes run, then ``leadpipe restore`` into an empty database: the
restored rows are one committed state (every lead with its history entry, job and count).

Runs on the suite's backend: SQLite's online backup API, or pg_dump/pg_restore on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from store.leads import lifecycle as leads
from store.models import Lead
from tests.server_support import fresh_postgres, run_cli
from tests.support import BACKEND, SeededTenant, principal

CONSISTENCY = {
    "leads": "SELECT COUNT(*) FROM leads WHERE tenant_id = %s",
    "history": "SELECT COUNT(*) FROM lead_events WHERE tenant_id = %s AND action = 'created'",
    "jobs": "SELECT COUNT(*) FROM jobs WHERE tenant_id = %s AND kind = 'dedup'",
    "counter": "SELECT COALESCE(SUM(count), 0) FROM lead_counts WHERE tenant_id = %s",
}


@contextlib.contextmanager
def writing(tenant: SeededTenant, threads: int = 2) -> Iterator[threading.Event]:
    """Threads creating leads until the block ends; yields once some are committed."""
    caller = principal(tenant.live_key)
    stop, started = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set():
                leads.create_lead(
                    caller,
                    {
                        "email": f"w.{uuid.uuid4().hex[:10]}@example.com",
                        "first_name": "W",
                        "last_name": "Writer",
                    },
                )
                if Lead.select().where(Lead.tenant_id == tenant.id).count() >= 10:
                    started.set()
        except BaseException as exc:  # surfaced below: a writer must not die silently
            failures.append(exc)
            started.set()

    workers = [threading.Thread(target=write) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        assert started.wait(120), "writers never got going"
        yield stop
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert not failures, failures


def _counts(query: Any, tenant_id: str) -> dict[str, int]:
    return {name: int(query(sql, tenant_id)) for name, sql in CONSISTENCY.items()}


def test_backup_while_writing_restores_one_consistent_state(
    database_url: str, tenant: SeededTenant, tmp_path: Path
) -> None:
    dump = tmp_path / ("leadpipe.db" if BACKEND == "sqlite" else "leadpipe.dump")
    with writing(tenant):
        before = Lead.select().where(Lead.tenant_id == tenant.id).count()
        backed_up = run_cli("backup", str(dump), LEADPIPE_DATABASE_URL=database_url)
    after = Lead.select().where(Lead.tenant_id == tenant.id).count()
    assert backed_up.returncode == 0, backed_up.stderr
    assert f"Backed up to {dump}" in backed_up.stdout and dump.stat().st_size > 0

    if BACKEND == "sqlite":
        target = f"sqlite:///{tmp_path / 'restored.db'}"
        restored = run_cli("restore", str(dump), "--yes", LEADPIPE_DATABASE_URL=target)
        assert restored.returncode == 0, restored.stderr
        with sqlite3.connect(tmp_path / "restored.db") as conn:
            counts = _counts(
                lambda sql, tid: conn.execute(sql.replace("%s", "?"), (tid,)).fetchone()[0], tenant.id
            )
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        _assert_working(target, tenant)
    else:
        with fresh_postgres(database_url, prefix="leadpipe_restore") as target:
            restored = run_cli("restore", str(dump), "--yes", LEADPIPE_DATABASE_URL=target)
            assert restored.returncode == 0, restored.stderr
            conn = psycopg2.connect(target)
            try:
                with conn.cursor() as cursor:

                    def query(sql: str, tid: str) -> int:
                        cursor.execute(sql, (tid,))
                        return int(cursor.fetchone()[0])

                    counts = _counts(query, tenant.id)
            finally:
                conn.close()
            _assert_working(target, tenant)
    # One committed state: no lead without its history, job and count; nothing half-written.
    assert len(set(counts.values())) == 1, counts
    assert before <= counts["leads"] <= after, (before, counts, after)


def _assert_working(target: str, tenant: SeededTenant) -> None:
    """The restored database is a working one: migrations agree, the tenant's keys are there."""
    migrated = run_cli("migrate", LEADPIPE_DATABASE_URL=target)
    assert migrated.stdout.startswith("Applied 0 migration(s)"), migrated.stderr
    listed = run_cli("key", "list", tenant.id, LEADPIPE_DATABASE_URL=target)
    assert listed.returncode == 0 and tenant.live_key[:15] in listed.stdout


def test_restore_needs_confirmation_and_a_leadpipe_backup(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert run_cli("migrate", LEADPIPE_DATABASE_URL=target).returncode == 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    unconfirmed = run_cli("restore", str(junk), LEADPIPE_DATABASE_URL=target)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stdout
    refused = run_cli("restore", str(junk), "--yes", LEADPIPE_DATABASE_URL=target)
    assert refused.returncode == 1 and "Not an SQLite database" in refused.stderr
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    refused = run_cli("restore", str(other), "--yes", LEADPIPE_DATABASE_URL=target)
    assert refused.returncode == 1 and "Not a Leadpipe database" in refused.stderr
    missing = run_cli("restore", str(tmp_path / "nope.db"), "--yes", LEADPIPE_DATABASE_URL=target)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    with sqlite3.connect(tmp_path / "target.db") as conn:  # the target is untouched
        assert conn.execute("SELECT COUNT(*) FROM tenants").fetchone()[0] == 0


def test_without_pg_dump_the_command_to_run_is_shown_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://leadpipe:s3cret-pw@db.internal:5433/leadpipe"
    result = run_cli("backup", str(tmp_path / "x.dump"), LEADPIPE_DATABASE_URL=url, PATH="/nonexistent")
    assert result.returncode == 1 and "pg_dump is not on PATH" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout and "PGPASSWORD=..." in result.stderr
    expected = "PGDATABASE=leadpipe PGHOST=db.internal PGPORT=5433 PGUSER=leadpipe"
    assert expected in result.stderr and "pg_dump --format=custom --no-owner --no-privileges" in result.stderr


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite file copy")
def test_a_backup_never_replaces_a_good_file_with_a_bad_one(database_url: str, tmp_path: Path) -> None:
    dump = tmp_path / "keep.db"
    assert run_cli("backup", str(dump), LEADPIPE_DATABASE_URL=database_url).returncode == 0
    size = dump.stat().st_size
    gone = run_cli("backup", str(dump), LEADPIPE_DATABASE_URL=f"sqlite:///{tmp_path / 'missing.db'}")
    assert gone.returncode == 1 and "does not exist" in gone.stderr
    assert dump.stat().st_size == size and not list(tmp_path.glob("*.partial"))
