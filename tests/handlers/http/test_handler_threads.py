"""The sync-handler pool: results and exceptions come back, context variables go in, threads are
reused and bounded, and a cancelled caller leaves the call to finish."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from handlers.http.handler_threads import HandlerThreads

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def test_a_call_returns_its_result_in_another_thread() -> None:
    pool = HandlerThreads(max_threads=2)

    async def main() -> tuple[int, str]:
        return await pool.run(lambda a, b=0: (a + b, threading.current_thread().name), 2, b=3)

    total, thread = asyncio.run(main())
    assert total == 5 and thread.startswith("leadpipe-handler-")


def test_an_exception_is_raised_in_the_caller() -> None:
    pool = HandlerThreads(max_threads=1)

    def fail() -> None:
        raise LookupError("from the thread")

    async def main() -> None:
        await pool.run(fail)

    with pytest.raises(LookupError, match="from the thread"):
        asyncio.run(main())


def test_the_callers_context_variables_are_copied_in_and_not_back() -> None:
    pool = HandlerThreads(max_threads=1)

    def read_and_change() -> str:
        seen = marker.get()
        marker.set("changed in the thread")
        return seen

    async def main() -> tuple[str, str]:
        marker.set("set by the caller")
        seen = await pool.run(read_and_change)
        return seen, marker.get()

    assert asyncio.run(main()) == ("set by the caller", "set by the caller")


def test_many_concurrent_calls_share_a_bounded_set_of_threads() -> None:
    pool = HandlerThreads(max_threads=3)
    barrier = threading.Barrier(3)

    def work(i: int) -> int:
        if i < 3:
            barrier.wait(timeout=30)  # the first three run at once: three threads exist
        return i * i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(pool.run(work, i) for i in range(50))))

    assert asyncio.run(main()) == [i * i for i in range(50)]
    assert pool.size == 3


def test_a_cancelled_caller_does_not_stop_the_call() -> None:
    pool = HandlerThreads(max_threads=1)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(timeout=30)
        finished.set()

    async def main() -> None:
        task = asyncio.ensure_future(pool.run(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()

    asyncio.run(main())
    assert finished.wait(timeout=30)
