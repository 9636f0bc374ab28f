"""Database selection, connection handling and the transaction boundary.

Peewee keeps one connection per thread. Connexion runs our sync handlers in anyio's thread
pool, so every store entry point opens (or reuses) the calling thread's connection with
`transaction` and closes it when the outermost call ends, which hands it back to the pool on
PostgreSQL and keeps idle threads from pinning connections.
"""

from __future__ import annotations

import contextlib
import functools
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url
from playhouse.migrations import Runner

from store.errors import Unavailable
from store.writer_queue import WriterQueue

database = peewee.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# WAL lets readers run beside the single writer; NORMAL is durable across application crashes
# in WAL mode (only an OS crash can lose the last commits) and is the documented pairing.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -64_000,
    "busy_timeout": 10_000,
}

P = ParamSpec("P")
R = TypeVar("R")
Q = TypeVar("Q", bound=peewee.Select)

# PostgreSQL's serialization_failure and deadlock_detected: the transaction was rolled back as
# a whole and may simply run again. Recognised by SQLSTATE (the driver's error, which peewee
# keeps as ``orig`` on its OperationalError), not by class.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
MAX_ATTEMPTS = 3
RETRY_JITTER_SECONDS = 0.02


def open_database(url: str, *, pool_size: int = 20) -> peewee.Database:
    """Build the database for ``url`` (``sqlite:///path`` or ``postgresql://...``)."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        # IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction never
        # fails half-way with "database is locked" under concurrent writers.
        # Pooled, because opening a connection per request (pragmas re-run every time) and
        # closing it (the last close of a WAL database checkpoints it) cost a fifth of each
        # request's CPU in bench/. A pooled connection moves between the handler threads but
        # is used by one thread at a time, hence check_same_thread=False.
        pooled = url.replace("sqlite://", "sqlite+pool://", 1)
        return connect_url(
            pooled,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            check_same_thread=False,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=10,
        )
    if scheme in ("postgres", "postgresql"):
        from store.pg_pool import PooledPostgres  # psycopg2 is imported only for PostgreSQL

        # A timeout makes excess requests wait for a free connection instead of failing.
        return PooledPostgres(**parse_url(url), max_connections=pool_size, stale_timeout=300, timeout=10)
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")


def bind(db: peewee.Database) -> None:
    database.initialize(db)


_bound: tuple[str, int, peewee.Database] | None = None
_bind_lock = threading.Lock()


def connect(url: str, *, pool_size: int = 20) -> peewee.Database:
    """Open the database at ``url`` and bind `database` to it, once per process.

    The one way the application opens its database (the CLI, the app factory, the worker).
    Calling it again with the same URL and pool size is a no-op that returns the bound database:
    `leadpipe serve` opens the database and starts its job threads, then uvicorn's factory
    builds the app in the same process; re-binding the proxy there swapped the database under a
    worker thread mid-transaction (``IndexError: pop from empty list`` in peewee, and the
    orphaned connection kept SQLite's write lock: every write answered 503 until it timed out).
    """
    global _bound
    with _bind_lock:
        if _bound is not None and _bound[:2] == (url, pool_size) and database.obj is _bound[2]:
            return _bound[2]
        opened = open_database(url, pool_size=pool_size)
        bind(opened)
        _bound = (url, pool_size, opened)
        return opened


def migrate() -> list[str]:
    """Apply pending versioned migrations; returns the names applied."""
    with database.connection_context():
        return Runner(database.obj, str(MIGRATIONS_DIR)).up()


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


# SQLite has one writer at a time. Writers of this process queue on this lock, which hands the
# turn to the next one the moment the last commits, instead of in SQLite's busy handler, which
# sleeps up to 100 ms between retries (p99 of concurrent creates: seconds, in bench/), and in
# arrival order (`store.writer_queue`). Re-entrant, so nested transactions join. Other
# processes still meet SQLite's own lock and busy_timeout.
sqlite_writers = WriterQueue()
_this_thread = threading.local()


def writes_first() -> None:
    """Queue this thread's SQLite transactions at the head of the writer queue: for the job
    worker's thread, whose batches the jobs of many creates wait for (`store.writer_queue`)."""
    _this_thread.first = True


@contextlib.contextmanager
def _writer_turn() -> Iterator[None]:
    if isinstance(database.obj, peewee.SqliteDatabase):
        sqlite_writers.acquire(first=getattr(_this_thread, "first", False))
        try:
            yield
        finally:
            sqlite_writers.release()
    else:
        yield


def locked(query: Q) -> Q:
    """``query`` with ``FOR UPDATE`` on PostgreSQL: the rows it reads stay locked until the
    transaction ends, so a read-modify-write cannot interleave with another one.

    SQLite needs (and has) no row locks: every write transaction begins IMMEDIATE and this
    process's writers queue on one lock (`transaction`), so nothing interleaves there.
    """
    return query.for_update() if is_postgres() else query


def _retryable(exc: BaseException) -> bool:
    # Peewee keeps the driver's error as ``orig``; the store may have chained it as the cause.
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__, getattr(exc.__cause__, "orig", None)):
        if getattr(candidate, "pgcode", None) in RETRYABLE_SQLSTATES:
            return True
    return False


def transaction(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` in one transaction on this thread's connection.

    Nested calls join the outer transaction (as savepoints). The outermost call runs ``fn``
    again (up to `MAX_ATTEMPTS` in all) when PostgreSQL rolled the transaction back as a
    deadlock victim or a serialization failure: nothing of the first attempt was kept, and
    these are races between correct transactions, not errors. A lost or unreachable database,
    or a race lost every time, surfaces as `Unavailable` (503) rather than a stack trace.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        # Joined as a savepoint: this thread already holds the writer turn and the connection.
        nested = database.in_transaction()
        attempts = 1 if nested else MAX_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                if nested:
                    with database.atomic():
                        return fn(*args, **kwargs)
                with _writer_turn(), database.connection_context(), database.atomic():
                    return fn(*args, **kwargs)
            except Exception as exc:
                if _retryable(exc):
                    if attempt < attempts:
                        # A short random pause, so the victim does not barge back in ahead of
                        # the transaction it lost to and deadlock with it again.
                        time.sleep(random.uniform(0, RETRY_JITTER_SECONDS * attempt))
                        continue
                    raise Unavailable("The database is busy; retry shortly") from exc
                if isinstance(exc, peewee.OperationalError | peewee.InterfaceError):
                    raise Unavailable("The database is unavailable; retry shortly") from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


def reading(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a read-only ``fn`` on this thread's connection, outside any write transaction.

    Reads must not take SQLite's IMMEDIATE write lock, or every list would queue behind
    every create.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with database.connection_context():
                return fn(*args, **kwargs)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            raise Unavailable("The database is unavailable; retry shortly") from exc

    return wrapper


def ping() -> bool:
    try:
        with database.connection_context():
            database.execute_sql("SELECT 1")
        return True
    except peewee.PeeweeException:
        return False
