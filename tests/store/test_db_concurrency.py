"""The connection layer under concurrency: many threads writing at once all commit (SQLite queues
them in-process), and SQLite connections are pooled and reused instead of opened per call."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from playhouse.pool import PooledSqliteDatabase

from store import db
from store.leads import lifecycle as leads
from store.models import Lead
from tests.support import BACKEND, SeededTenant, principal


def test_concurrent_read_then_write_transactions_all_commit(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    failures: list[BaseException] = []
    created: list[str] = []
    start = threading.Barrier(8)

    def create(n: int) -> None:
        start.wait()
        try:
            for i in range(5):
                lead = leads.create_lead(
                    caller,
                    {
                        "email": f"t{n}-{i}-{uuid.uuid4().hex[:6]}@example.com",
                        "first_name": "T",
                        "last_name": "W",
                    },
                )
                created.append(lead.id)
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with db.database.connection_context():
        stored = Lead.select().where((Lead.tenant_id == tenant.id) & Lead.id.in_(created)).count()
    assert stored == len(created) == 40


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite pool")
def test_sqlite_connections_are_pooled_and_reused(app: Any) -> None:
    pool: Any = db.database.obj
    with db.database.connection_context():
        first = db.database.connection()
    with db.database.connection_context():
        again = db.database.connection()
    assert again is first  # handed back to the pool, not closed and reopened
    assert isinstance(pool, PooledSqliteDatabase)
