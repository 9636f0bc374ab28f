"""`store.writer_queue.WriterQueue`: SQLite writers of one process take turns in arrival order,
re-entrantly, and the queue length is visible to whoever wants to give way."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import pytest

from store.writer_queue import WriterQueue


def _until(condition: Callable[[], bool]) -> None:
    """Wait (without a deadline that could flake) until ``condition()`` holds."""
    event = threading.Event()
    while not condition():
        event.wait(0.001)


def _queued(turn: WriterQueue, count: int) -> bool:
    return turn.waiting() == count


def test_waiters_get_the_turn_in_arrival_order() -> None:
    turn = WriterQueue()
    order: list[int] = []
    turn.acquire()
    threads = []
    for index in range(8):

        def writer(index: int = index) -> None:
            with turn:
                order.append(index)

        thread = threading.Thread(target=writer)
        thread.start()
        threads.append(thread)
        _until(functools.partial(_queued, turn, index + 1))  # queued before the next one starts
    turn.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert turn.waiting() == 0


def test_the_holder_reenters_and_others_wait_for_its_last_release() -> None:
    turn = WriterQueue()
    got = threading.Event()
    with turn:
        with turn:
            assert turn.held()

        def take() -> None:
            with turn:
                got.set()

        waiter = threading.Thread(target=take)
        waiter.start()
        _until(lambda: turn.waiting() == 1)
        assert not got.is_set()  # still ours after the inner release
    waiter.join()
    assert got.is_set() and not turn.held()


def test_only_the_holder_may_release() -> None:
    turn = WriterQueue()
    with pytest.raises(RuntimeError):
        turn.release()
    turn.acquire()
    failed: list[BaseException] = []

    def other() -> None:
        try:
            turn.release()
        except RuntimeError as exc:
            failed.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert failed and turn.held()
    turn.release()


def test_a_writer_that_goes_first_is_served_before_those_queued() -> None:
    turn = WriterQueue()
    order: list[str] = []
    turn.acquire()
    threads = []
    for count, (name, first) in enumerate((("a", False), ("b", False), ("worker", True)), start=1):

        def writer(name: str = name, first: bool = first) -> None:
            turn.acquire(first=first)
            order.append(name)
            turn.release()

        thread = threading.Thread(target=writer)
        thread.start()
        threads.append(thread)
        _until(functools.partial(_queued, turn, count))
    turn.release()
    for thread in threads:
        thread.join()
    assert order == ["worker", "a", "b"]
