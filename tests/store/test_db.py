"""The database layer: versioned migrations, SQLite pragmas, the tenant-first index rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import peewee
import pytest
from playhouse.migrations import Runner

from store import db
from tests.support import BACKEND

TENANT_TABLES = ("users", "api_keys", "leads", "lead_tags", "lead_events")
# The only lookups allowed across tenants are the ones that *find* the tenant: a key's hash
# (the current secret's, or the one a rotation replaced), and a login's email.
GLOBAL_LOOKUPS = {("api_keys", ("key_hash",)), ("api_keys", ("previous_key_hash",)), ("users", ("email",))}


def test_migrations_are_idempotent(app: Any) -> None:
    assert db.migrate() == []  # the app fixture already applied everything
    assert db.migrate() == []


def test_fresh_database_gets_every_migration_once(tmp_path: Path) -> None:
    fresh = db.open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with fresh.connection_context():
            applied = Runner(fresh, str(db.MIGRATIONS_DIR)).up()
            assert applied and applied[0].startswith("0001")
            assert Runner(fresh, str(db.MIGRATIONS_DIR)).up() == []
            assert set(TENANT_TABLES) | {"tenants"} <= set(fresh.get_tables())
    finally:
        fresh.close()


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite pragmas")
@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("synchronous", 1), ("busy_timeout", 10_000), ("foreign_keys", 1)],
)
def test_sqlite_pragmas_are_in_effect(app: Any, pragma: str, expected: Any) -> None:
    with db.database.connection_context():
        value = db.database.execute_sql(f"PRAGMA {pragma}").fetchone()[0]
    assert value == expected


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite locking")
def test_sqlite_write_transactions_take_the_lock_up_front(app: Any) -> None:
    assert db.database.obj._lock_type == "IMMEDIATE"


def test_backend_matches_the_url(app: Any) -> None:
    assert db.is_postgres() is (BACKEND == "postgres")
    assert db.ping() is True


def test_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        db.open_database("mysql://localhost/leadpipe")


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_tenant_id_leads_every_index_and_primary_key(app: Any, table: str) -> None:
    with db.database.connection_context():
        indexes = db.database.get_indexes(table)
        primary = db.database.get_primary_keys(table)
    assert primary[0] == "tenant_id"
    for index in indexes:
        if (table, tuple(index.columns)) in GLOBAL_LOOKUPS:
            continue
        assert index.columns[0] == "tenant_id", (table, index.name, index.columns)


def test_transaction_rolls_back_on_error(app: Any) -> None:
    from store.models import Tenant

    @db.transaction
    def half_done() -> None:
        Tenant.create(id="RolledBack000001", name="x", plan="free")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        half_done()
    assert not Tenant.select().where(Tenant.id == "RolledBack000001").exists()


def test_lost_database_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    from store.errors import Unavailable

    @db.reading
    def read() -> Any:
        return db.database.execute_sql("SELECT * FROM no_such_table").fetchall()

    with pytest.raises((Unavailable, peewee.DatabaseError)):
        read()
