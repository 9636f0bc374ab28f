"""The queue of this process's SQLite writers (`store.db.transaction` takes a turn of it).

First come, first served. A plain (R)Lock wakes a waiter when it is released, but the waiter
must then get the GIL before it can take the lock, and any thread already running takes it
first: on a busy box a create could be passed over again and again while newer ones went
ahead (create p99 several times its median in bench/). Here the releasing thread hands the turn
to the oldest waiter, which owns it from that moment.

Re-entrant, so nested transactions join. ``first=True`` queues at the head instead: for the
job worker, one thread whose every batch is a turn that many creates' jobs wait for. Queued at
the back like a request, it waited for the whole queue before each batch of dedup jobs and fell
behind the creates (dedup p50 0.2 -> 1.1 s in bench/); at the head it waits for one holder, and
the requests behind it for one batch.
"""

from __future__ import annotations

import collections
import threading


class WriterQueue:
    """A re-entrant lock that hands itself to its waiters in arrival order."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()  # guards the fields below; held for a few operations only
        self._owner: int | None = None
        self._depth = 0
        self._waiters: collections.deque[tuple[int, threading.Lock]] = collections.deque()

    def acquire(self, *, first: bool = False) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None and not self._waiters:
                self._owner, self._depth = me, 1
                return
            gate = threading.Lock()
            gate.acquire()
            if first:
                self._waiters.appendleft((me, gate))
            else:
                self._waiters.append((me, gate))
        try:
            gate.acquire()  # opened by `release`, which made this thread the owner first
        except BaseException:  # interrupted (a signal in the main thread): leave the queue
            with self._mutex:
                if (me, gate) in self._waiters:
                    self._waiters.remove((me, gate))
                    raise
            self.release()  # the turn was handed over meanwhile: pass it on, never keep it
            raise

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("the writer turn is released by a thread that does not hold it")
            self._depth -= 1
            if self._depth:
                return
            if self._waiters:
                self._owner, gate = self._waiters.popleft()
                self._depth = 1
                gate.release()
            else:
                self._owner = None

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def waiting(self) -> int:
        """How many writers are queued for the turn now (a snapshot)."""
        return len(self._waiters)

    def held(self) -> bool:
        """Whether the calling thread holds the turn."""
        return self._owner == threading.get_ident()
