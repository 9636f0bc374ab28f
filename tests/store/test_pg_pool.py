"""The PostgreSQL pool (`store.pg_pool`): no ``SELECT 1`` per check-out, yet a connection that
died while idle in the pool is never handed out."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import peewee
import psycopg2
import psycopg2.extras
import pytest
from playhouse.db_url import parse as parse_url

from store import db, pg_pool
from tests.support import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="the PostgreSQL pool")


class _Recording(psycopg2.extras.LoggingConnection):
    """A psycopg2 connection that records every statement it sends (in `SENT`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize(io.StringIO())

    def filter(self, msg: Any, curs: Any) -> Any:
        SENT.append(msg.decode() if isinstance(msg, bytes) else str(msg))
        return msg


SENT: list[str] = []


@pytest.fixture
def pool(database_url: str) -> Iterator[pg_pool.PooledPostgres]:
    """A pool of its own (not the app's), whose statements the test can see and whose
    connections it can kill."""
    opened = pg_pool.PooledPostgres(
        **parse_url(database_url), max_connections=2, stale_timeout=300, connection_factory=_Recording
    )
    yield opened
    opened.close_all()


def _pings() -> int:
    return SENT.count("SELECT 1")


def _backend_pid(pool: pg_pool.PooledPostgres) -> int:
    with pool.connection_context():
        return int(pool.execute_sql("SELECT pg_backend_pid()").fetchone()[0])


def _terminate(database_url: str, pid: int) -> None:
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()


def test_the_app_opens_this_pool(database_url: str) -> None:
    opened = db.open_database(database_url, pool_size=2)
    assert isinstance(opened, pg_pool.PooledPostgres)


def test_a_connection_just_returned_is_reused_without_a_ping(pool: pg_pool.PooledPostgres) -> None:
    first = _backend_pid(pool)
    before = _pings()
    for _ in range(5):
        assert _backend_pid(pool) == first  # the same pooled connection every time
    assert _pings() == before


def test_a_connection_idle_for_a_while_is_pinged_first(
    pool: pg_pool.PooledPostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pool)
    before = _pings()
    monkeypatch.setattr(pg_pool, "PING_AFTER_IDLE_SECONDS", 0.0)  # everything counts as idle
    assert _backend_pid(pool) == first
    assert _pings() == before + 1


def test_a_connection_that_died_while_idle_is_discarded_not_handed_out(
    pool: pg_pool.PooledPostgres, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _backend_pid(pool)
    _terminate(database_url, dead)  # the server side of the pooled connection goes away
    monkeypatch.setattr(pg_pool, "PING_AFTER_IDLE_SECONDS", 0.0)
    fresh = _backend_pid(pool)  # no error: the ping found it dead, a new one was opened
    assert fresh != dead


def test_a_connection_that_died_within_the_window_fails_once_then_is_dropped(
    pool: pg_pool.PooledPostgres, database_url: str
) -> None:
    """The documented trade-off: within the second after its last use, a dead connection is
    not pinged, so its next statement fails (the store answers 503); the driver marks it
    closed and the pool never hands it out again."""
    dead = _backend_pid(pool)
    _terminate(database_url, dead)
    with pytest.raises((psycopg2.Error, peewee.PeeweeException)):
        _backend_pid(pool)
    assert _backend_pid(pool) != dead
