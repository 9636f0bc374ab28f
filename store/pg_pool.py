"""The PostgreSQL connection pool: peewee's, without a round trip on every check-out.

Peewee's pooled PostgreSQL database proves each pooled connection alive before handing it out
with a ``SELECT 1`` (the driver's status flag is local, so only a round trip notices a server
that went away). A request checks a connection out once or twice (the key lookup, the query),
so that was one or two extra round trips per request: the largest part of why a PostgreSQL
``GET`` cost ~1.5x SQLite's CPU in bench/ (``SELECT 1`` through psycopg2, and its parse and
execute on the server).

Here a connection checked back in less than `PING_AFTER_IDLE_SECONDS` ago, idle and not closed
by the driver, is handed out as it is: it answered a moment ago. One idle for longer is pinged
as before, so a pool that sat idle across a server restart still discards its dead connections
before use. What remains is the window of that second: a server that dies in it fails the
next statement on each of its connections once (503 "retry shortly", as a server dying during
a request does anyway), and psycopg2 marks those connections closed, so the pool drops them.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from playhouse.pool import PooledPostgresqlDatabase
from psycopg2 import extensions

PING_AFTER_IDLE_SECONDS = 1.0


class PooledPostgres(PooledPostgresqlDatabase):
    """`PooledPostgresqlDatabase` that pings only connections idle for a while."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}  # connection key -> when it was last checked in
        self._returned_lock = threading.Lock()

    def _is_closed(self, conn: Any) -> bool:
        if conn.closed:
            return True
        with self._returned_lock:
            returned = self._returned.pop(self.conn_key(conn), None)
        recent = returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS
        if recent and conn.get_transaction_status() == extensions.TRANSACTION_STATUS_IDLE:
            return False
        return bool(super()._is_closed(conn))

    def _close(self, conn: Any, close_conn: bool = False) -> None:
        # Stamped before the connection goes back to the heap, so a check-out never sees it
        # without its stamp (it would only ping, which is safe either way).
        if not close_conn:
            with self._returned_lock:
                self._returned[self.conn_key(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn: Any) -> None:
        with self._returned_lock:
            self._returned.pop(self.conn_key(conn), None)
        super()._close_raw(conn)
