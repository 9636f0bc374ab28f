"""The threads that run sync handlers: one queue hop there, one `call_soon_threadsafe` back.

Connexion runs a sync handler through Starlette's `run_in_threadpool`, i.e. anyio's
`to_thread.run_sync`: a capacity limiter, cancel scopes, a sniffio backend lookup and a
`threading.Condition`-guarded queue per call, ~15 % of a GET's CPU under ``python -m
bench.profile``. This pool does what a handler needs and nothing else: the caller's context
variables (the request id, the app state, Connexion's context) are copied into the thread, as
anyio copies them; the result or exception comes back on an asyncio future; threads are started
on demand up to a bound (anyio's default, 40) and reused, the most recently idle one first.

Cancellation: a handler, once started, runs to its end (its transaction commits or rolls back
as a whole), as under anyio's ``abandon_on_cancel=False``; a cancelled caller simply no longer
waits for the answer.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# anyio's default thread limiter: as many handlers at once as before.
MAX_THREADS = 40

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[[], Any]]


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class HandlerThreads:
    """A bounded pool of daemon threads, each waiting on its own queue.

    The most recently idle thread takes the next call (a stack, as anyio keeps its workers):
    under a steady load the same few threads stay warm and the others sleep, rather than every
    call waking whichever thread waited longest. Calls beyond the bound wait in a backlog that
    a thread drains before it goes idle.
    """

    def __init__(self, max_threads: int = MAX_THREADS, name: str = "leadpipe-handler") -> None:
        self.max_threads = max_threads
        self.name = name
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[_Job]] = []  # a stack: the last to idle is the first woken
        self._backlog: collections.deque[_Job] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._numbers = itertools.count(1)

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a pool thread, in a copy of the caller's context."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        call = (lambda: fn(*args, **kwargs)) if args or kwargs else fn
        job: _Job = (loop, future, contextvars.copy_context(), call)
        with self._lock:
            idle = self._idle.pop() if self._idle else None
            thread = None
            if idle is None and len(self._threads) < self.max_threads:
                name = f"{self.name}-{next(self._numbers)}"
                thread = threading.Thread(target=self._work, args=(job,), name=name, daemon=True)
                self._threads.append(thread)
            elif idle is None:
                self._backlog.append(job)  # taken by the next thread to finish its call
        if idle is not None:
            idle.put(job)
        elif thread is not None:
            try:
                thread.start()
            except BaseException:
                # No thread (ulimit, memory): give its place back, or each failure would lower
                # the bound for good and, once every place were dead, calls would wait forever.
                # Anything queued meanwhile is taken by the next thread that does start.
                with self._lock:
                    self._threads.remove(thread)
                raise
        return await future

    @property
    def size(self) -> int:
        return len(self._threads)

    def _work(self, first: _Job) -> None:
        mine: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        job: _Job | None = first
        while True:
            if job is None:
                job = mine.get()
            loop, future, context, call = job
            try:
                value, ok = context.run(call), True
            except BaseException as exc:  # handed to the awaiting task, as anyio does
                value, ok = exc, False
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, future, ok, value)
            del loop, future, context, call, value  # drop references before idling
            with self._lock:
                job = self._backlog.popleft() if self._backlog else None
                if job is None:
                    self._idle.append(mine)


_pool: HandlerThreads | None = None
_pool_lock = threading.Lock()


def pool() -> HandlerThreads:
    """The process's pool (shared by every app in it, like anyio's default limiter)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = HandlerThreads()
    return _pool
